//! Everything that serves HTTP: the live [`preview`] of a bulletin and the
//! one-click [`unsubscribe`] server.

pub mod preview;
pub mod unsubscribe;
