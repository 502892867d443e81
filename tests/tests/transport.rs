//! lister-http against the fake forge: retries, quota waits, credential rotation, safety.
//! Every URL here is on 127.0.0.1 (the helpers assert it); waits run on a virtual clock.

#[path = "transport/support.rs"]
mod support;

#[path = "transport/conditional.rs"]
mod conditional;
#[path = "transport/listing.rs"]
mod listing;
#[path = "transport/quota.rs"]
mod quota;
#[path = "transport/retries.rs"]
mod retries;
#[path = "transport/rotation.rs"]
mod rotation;
#[path = "transport/safety.rs"]
mod safety;
