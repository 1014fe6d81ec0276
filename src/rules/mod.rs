//! Rule groups over time: recording and alerting rules evaluated tick by tick, the alert state machine, and
//! the alert timeline handed to the Alertmanager simulator.
pub mod alerting;
pub mod capture;
pub mod coverage;
pub mod group;
pub mod remote;
pub mod sweep;
pub mod timeline;
pub mod tune;
pub mod unittest;
