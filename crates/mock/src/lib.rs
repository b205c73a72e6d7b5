//! AWS Step Functions Local's mock file (`MockConfigFile`). STUB.
