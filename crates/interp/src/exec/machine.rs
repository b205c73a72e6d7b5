//! A definition prepared for running ([`Machine`]) and who an execution is
//! ([`ExecutionInfo`]: what `$$.Execution` and `$$.StateMachine` show).

use super::*;

/// Who and what an execution is: the values of `$$.Execution` and `$$.StateMachine`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionInfo {
    pub execution_arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub region: String,
    pub account: String,
    pub redrive_count: u32,
    /// EXPRESS executions: `…:express:…` ARNs and no `RedriveCount` in the Context object.
    pub express: bool,
}

impl ExecutionInfo {
    /// ARNs in the default account and region for a machine and an execution name.
    pub fn local(state_machine_name: &str, execution_name: &str) -> ExecutionInfo {
        let (region, account) = ("us-east-1", "123456789012");
        ExecutionInfo {
            execution_arn: format!(
                "arn:aws:states:{region}:{account}:execution:{state_machine_name}:{execution_name}"
            ),
            name: execution_name.to_string(),
            state_machine_arn: format!(
                "arn:aws:states:{region}:{account}:stateMachine:{state_machine_name}"
            ),
            state_machine_name: state_machine_name.to_string(),
            role_arn: format!("arn:aws:iam::{account}:role/stepwise"),
            region: region.to_string(),
            account: account.to_string(),
            redrive_count: 0,
            express: false,
        }
    }

    /// An EXPRESS execution: its ARN carries the machine name, the execution name and an id.
    pub fn local_express(
        state_machine_name: &str,
        execution_name: &str,
        id: &str,
    ) -> ExecutionInfo {
        let mut info = ExecutionInfo::local(state_machine_name, execution_name);
        info.execution_arn = format!(
            "arn:{}:states:{}:{}:express:{state_machine_name}:{execution_name}:{id}",
            stepwise_asl::partition_of(&info.region),
            info.region,
            info.account
        );
        info.express = true;
        info
    }
}

/// A parsed definition prepared for running many executions.
#[derive(Debug)]
pub struct Machine {
    pub definition: StateMachine,
    /// States (by address) whose expressions read the Context object.
    pub(super) needs_context: HashMap<usize, bool, BuildAddressHasher>,
}

/// Keys are state addresses: already unique, so hashing them is wasted work.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct BuildAddressHasher;

#[derive(Default)]
pub(super) struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_usize(&mut self, n: usize) {
        // Addresses are aligned; mix the high bits down so buckets spread.
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl std::hash::BuildHasher for BuildAddressHasher {
    type Hasher = AddressHasher;
    fn build_hasher(&self) -> AddressHasher {
        AddressHasher(0)
    }
}

impl Machine {
    pub fn new(definition: StateMachine) -> Arc<Machine> {
        let mut needs_context = HashMap::with_hasher(BuildAddressHasher);
        fn walk(states: &States, out: &mut HashMap<usize, bool, BuildAddressHasher>) {
            for s in &states.states {
                let dbg = format!("{:?}", s);
                out.insert(
                    s as *const State as usize,
                    dbg.contains("$$") || dbg.contains("$states"),
                );
                match &s.kind {
                    StateKind::Parallel(p) => p.branches.iter().for_each(|b| walk(b, out)),
                    StateKind::Map(m) => walk(&m.processor, out),
                    _ => {}
                }
            }
        }
        walk(&definition.states, &mut needs_context);
        Arc::new(Machine {
            definition,
            needs_context,
        })
    }
    pub(super) fn needs_context(&self, s: &State) -> bool {
        self.needs_context
            .get(&(s as *const State as usize))
            .copied()
            .unwrap_or(true)
    }
}
