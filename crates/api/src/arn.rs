//! Step Functions ARNs (`arn:aws:states:REGION:ACCOUNT:TYPE:…`): parsing, printing,
//! classifying, and AWS's `InvalidArn` / `InvalidName` messages.
//!
//! Resource forms:
//! - `stateMachine:NAME`, `stateMachine:NAME:VERSION` (digits), `stateMachine:NAME:ALIAS`,
//!   `stateMachine:NAME/LABEL` (a Distributed Map state's child machine)
//! - `execution:MACHINE:NAME`, `execution:MACHINE/LABEL:NAME` (Distributed Map child)
//! - `express:MACHINE:NAME:ID`, `express:MACHINE/LABEL:NAME:ID`
//! - `activity:NAME`
//! - `mapRun:MACHINE/LABEL:ID`

use std::fmt;

/// Partitions Step Functions runs in.
const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// A parse or context failure, printed as AWS's `InvalidArn` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// The text does not start with `arn:`. Wording recorded from AWS.
    #[error("Invalid Arn: 'Invalid ARN prefix: {0}'")]
    Prefix(String),
    /// A well-formed ARN of the wrong resource type for the action (the type as it
    /// appears in the ARN, e.g. `execution`). Wording recorded from AWS.
    #[error("Invalid Arn: 'Resource type not valid in this context: {0}'")]
    ResourceType(String),
    /// Starts with `arn:` but is not a Step Functions ARN of a known shape.
    /// Wording guessed (no recording).
    #[error("Invalid Arn: '{0}'")]
    Malformed(String),
}

impl ArnError {
    /// The error code AWS answers with.
    pub fn code(&self) -> &'static str {
        "InvalidArn"
    }
}

/// The resource type segment of an ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    StateMachine,
    Execution,
    Express,
    Activity,
    MapRun,
}

impl ResourceType {
    /// As written in the ARN.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::StateMachine => "stateMachine",
            ResourceType::Execution => "execution",
            ResourceType::Express => "express",
            ResourceType::Activity => "activity",
            ResourceType::MapRun => "mapRun",
        }
    }
}

/// What an ARN names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `stateMachine:NAME` (unqualified: the latest revision).
    StateMachine { name: String },
    /// `stateMachine:NAME:VERSION`.
    StateMachineVersion { name: String, version: u64 },
    /// `stateMachine:NAME:ALIAS`.
    StateMachineAlias { name: String, alias: String },
    /// `stateMachine:NAME/LABEL`: the child machine of a Distributed Map state.
    MapStateMachine { name: String, label: String },
    /// `execution:MACHINE[/LABEL]:NAME`.
    Execution {
        state_machine: String,
        map_label: Option<String>,
        name: String,
    },
    /// `express:MACHINE[/LABEL]:NAME:ID`.
    ExpressExecution {
        state_machine: String,
        map_label: Option<String>,
        name: String,
        id: String,
    },
    /// `activity:NAME`.
    Activity { name: String },
    /// `mapRun:MACHINE/LABEL:ID`.
    MapRun {
        state_machine: String,
        label: String,
        id: String,
    },
}

impl Resource {
    pub fn resource_type(&self) -> ResourceType {
        match self {
            Resource::StateMachine { .. }
            | Resource::StateMachineVersion { .. }
            | Resource::StateMachineAlias { .. }
            | Resource::MapStateMachine { .. } => ResourceType::StateMachine,
            Resource::Execution { .. } => ResourceType::Execution,
            Resource::ExpressExecution { .. } => ResourceType::Express,
            Resource::Activity { .. } => ResourceType::Activity,
            Resource::MapRun { .. } => ResourceType::MapRun,
        }
    }
}

/// A parsed Step Functions ARN. `to_string()` gives back the text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub resource: Resource,
}

/// Parses any Step Functions ARN.
pub fn parse(s: &str) -> Result<Arn, ArnError> {
    let Some(rest) = s.strip_prefix("arn:") else {
        return Err(ArnError::Prefix(s.to_string()));
    };
    let malformed = || ArnError::Malformed(s.to_string());
    let mut fields = rest.splitn(5, ':');
    let (Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(malformed());
    };
    let region_ok = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
    if !PARTITIONS.contains(&partition) || service != "states" || !region_ok || !account_ok {
        return Err(malformed());
    }
    let parts: Vec<&str> = resource.split(':').collect();
    let (kind, args) = parts.split_first().ok_or_else(malformed)?;
    let name = |p: &str| -> Result<String, ArnError> {
        if check_name(p).is_ok() {
            Ok(p.to_string())
        } else {
            Err(malformed())
        }
    };
    // `MACHINE` or `MACHINE/LABEL`.
    let machine = |p: &str| -> Result<(String, Option<String>), ArnError> {
        match p.split_once('/') {
            None => Ok((name(p)?, None)),
            Some((m, label)) => Ok((name(m)?, Some(name(label)?))),
        }
    };
    let resource = match (*kind, args) {
        ("stateMachine", [n]) => match machine(n)? {
            (name, None) => Resource::StateMachine { name },
            (name, Some(label)) => Resource::MapStateMachine { name, label },
        },
        ("stateMachine", [n, q]) => {
            let n = name(n)?;
            if !q.is_empty() && q.chars().all(|c| c.is_ascii_digit()) {
                // Versions are printed without leading zeros; `01` names nothing.
                if q.len() > 1 && q.starts_with('0') {
                    return Err(malformed());
                }
                let version = q.parse().map_err(|_| malformed())?;
                Resource::StateMachineVersion { name: n, version }
            } else {
                Resource::StateMachineAlias {
                    name: n,
                    alias: name(q)?,
                }
            }
        }
        ("execution", [m, e]) => {
            let (state_machine, map_label) = machine(m)?;
            Resource::Execution {
                state_machine,
                map_label,
                name: name(e)?,
            }
        }
        ("express", [m, e, id]) => {
            let (state_machine, map_label) = machine(m)?;
            Resource::ExpressExecution {
                state_machine,
                map_label,
                name: name(e)?,
                id: name(id)?,
            }
        }
        ("activity", [n]) => Resource::Activity { name: name(n)? },
        ("mapRun", [m, id]) => match machine(m)? {
            (state_machine, Some(label)) => Resource::MapRun {
                state_machine,
                label,
                id: name(id)?,
            },
            (_, None) => return Err(malformed()),
        },
        ("stateMachine" | "execution" | "express" | "activity" | "mapRun", _) => {
            return Err(malformed())
        }
        // Guessed: an unknown type reads as a type not valid here.
        (other, _) => return Err(ArnError::ResourceType(other.to_string())),
    };
    Ok(Arn {
        partition: partition.to_string(),
        region: region.to_string(),
        account: account.to_string(),
        resource,
    })
}

/// Parses `s` and requires one of `allowed` resource types, as an action does
/// (StartExecution given an execution ARN: `Resource type not valid in this context: execution`).
pub fn parse_for(s: &str, allowed: &[ResourceType]) -> Result<Arn, ArnError> {
    let arn = parse(s)?;
    arn.require_type(allowed)?;
    Ok(arn)
}

impl Arn {
    /// An ARN in the given partition/region/account.
    pub fn new(partition: &str, region: &str, account: &str, resource: Resource) -> Arn {
        Arn {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
            resource,
        }
    }

    pub fn partition(&self) -> &str {
        &self.partition
    }
    pub fn region(&self) -> &str {
        &self.region
    }
    pub fn account(&self) -> &str {
        &self.account
    }
    pub fn resource(&self) -> &Resource {
        &self.resource
    }
    pub fn resource_type(&self) -> ResourceType {
        self.resource.resource_type()
    }

    /// `Err(ResourceType)` unless this ARN's type is one of `allowed`.
    pub fn require_type(&self, allowed: &[ResourceType]) -> Result<(), ArnError> {
        let t = self.resource_type();
        if allowed.contains(&t) {
            Ok(())
        } else {
            Err(ArnError::ResourceType(t.as_str().to_string()))
        }
    }

    /// The state machine's name for every type but `activity`.
    pub fn state_machine_name(&self) -> Option<&str> {
        match &self.resource {
            Resource::StateMachine { name }
            | Resource::StateMachineVersion { name, .. }
            | Resource::StateMachineAlias { name, .. }
            | Resource::MapStateMachine { name, .. } => Some(name),
            Resource::Execution { state_machine, .. }
            | Resource::ExpressExecution { state_machine, .. }
            | Resource::MapRun { state_machine, .. } => Some(state_machine),
            Resource::Activity { .. } => None,
        }
    }

    /// The unqualified `stateMachine:NAME` ARN this ARN belongs to (a version's or
    /// alias's machine, an execution's machine, …); `None` for activities.
    pub fn state_machine_arn(&self) -> Option<Arn> {
        let name = self.state_machine_name()?.to_string();
        Some(Arn {
            resource: Resource::StateMachine { name },
            ..self.clone()
        })
    }

    /// The version number of a version ARN.
    pub fn version(&self) -> Option<u64> {
        match &self.resource {
            Resource::StateMachineVersion { version, .. } => Some(*version),
            _ => None,
        }
    }

    /// The alias name of an alias ARN.
    pub fn alias(&self) -> Option<&str> {
        match &self.resource {
            Resource::StateMachineAlias { alias, .. } => Some(alias),
            _ => None,
        }
    }

    /// The execution's name for `execution` and `express` ARNs.
    pub fn execution_name(&self) -> Option<&str> {
        match &self.resource {
            Resource::Execution { name, .. } | Resource::ExpressExecution { name, .. } => {
                Some(name)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:states:{}:{}:",
            self.partition, self.region, self.account
        )?;
        let with_label = |m: &str, l: &Option<String>| match l {
            Some(l) => format!("{m}/{l}"),
            None => m.to_string(),
        };
        match &self.resource {
            Resource::StateMachine { name } => write!(f, "stateMachine:{name}"),
            Resource::StateMachineVersion { name, version } => {
                write!(f, "stateMachine:{name}:{version}")
            }
            Resource::StateMachineAlias { name, alias } => write!(f, "stateMachine:{name}:{alias}"),
            Resource::MapStateMachine { name, label } => write!(f, "stateMachine:{name}/{label}"),
            Resource::Execution {
                state_machine,
                map_label,
                name,
            } => {
                write!(
                    f,
                    "execution:{}:{name}",
                    with_label(state_machine, map_label)
                )
            }
            Resource::ExpressExecution {
                state_machine,
                map_label,
                name,
                id,
            } => {
                write!(
                    f,
                    "express:{}:{name}:{id}",
                    with_label(state_machine, map_label)
                )
            }
            Resource::Activity { name } => write!(f, "activity:{name}"),
            Resource::MapRun {
                state_machine,
                label,
                id,
            } => write!(f, "mapRun:{state_machine}/{label}:{id}"),
        }
    }
}

impl std::str::FromStr for Arn {
    type Err = ArnError;
    fn from_str(s: &str) -> Result<Arn, ArnError> {
        parse(s)
    }
}

/// AWS's rule for state machine, execution and activity names: 1–80 characters, none
/// of them whitespace, `< > { } [ ]`, `? *`, `" # % \ ^ | ~ ` $ & , ; : /`, or a
/// control character (U+0000–001F, U+007F–009F). The error is AWS's `InvalidName`
/// message, `Invalid Name: 'NAME'` (recorded).
pub fn check_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    let bad = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '<' | '>'
                    | '{'
                    | '}'
                    | '['
                    | ']'
                    | '?'
                    | '*'
                    | '"'
                    | '#'
                    | '%'
                    | '\\'
                    | '^'
                    | '|'
                    | '~'
                    | '`'
                    | '$'
                    | '&'
                    | ','
                    | ';'
                    | ':'
                    | '/'
            )
    };
    if (1..=80).contains(&len) && !name.chars().any(bad) {
        Ok(())
    } else {
        Err(format!("Invalid Name: '{name}'"))
    }
}

#[cfg(test)]
#[path = "tests/arn.rs"]
mod tests;
