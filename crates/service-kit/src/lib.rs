//! The kit every obi-examples service is built from.
