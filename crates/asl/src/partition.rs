//! The AWS partition a region belongs to: the second field of every ARN made there
//! (`arn:aws-cn:states:cn-north-1:…`).

/// The partition of `region`, by AWS's region prefixes; `aws` for any other name.
pub fn partition_of(region: &str) -> &'static str {
    // Longer prefixes first: `us-isob-` also starts with `us-iso`.
    const PREFIXES: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("eusc-", "aws-eusc"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

#[cfg(test)]
mod tests {
    use super::partition_of;

    #[test]
    fn regions_name_their_partition() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("eu-west-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("eusc-de-east-1", "aws-eusc"),
            ("local", "aws"),
        ] {
            assert_eq!(partition_of(region), partition, "{region}");
        }
    }
}
