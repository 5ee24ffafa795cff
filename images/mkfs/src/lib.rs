//! mkfs: writes an xv6-format fs.img.
