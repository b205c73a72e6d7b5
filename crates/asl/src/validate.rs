//! STUB: static checks over the raw definition.
