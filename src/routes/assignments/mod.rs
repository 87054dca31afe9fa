//! Department assignments (who leads, co-ordinates or carries out what), their
//! reporting duties, and the progress reports departments submit.

mod duties;
mod progress_reports;
mod records;

pub use duties::*;
pub use progress_reports::*;
pub use records::*;
