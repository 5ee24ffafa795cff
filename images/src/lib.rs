//! The bundled guest images.
