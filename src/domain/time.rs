//! Vietnam's time for the rules: the offset, the local date and the injectable clock,
//! which live in `crate::clock` so that the settings can carry the clock.
pub use crate::clock::{Clock, local_date, vietnam};
