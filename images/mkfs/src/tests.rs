use super::reader::FsReader;
use super::*;

#[test]
fn superblock_fields_match_xv6() {
    let img = make_fs_image(&[]).unwrap();
    assert_eq!(img.len(), 2000 * 1024);
    let r = FsReader::new(&img).unwrap();
    assert_eq!(
        r.sb,
        Superblock {
            magic: 0x1020_3040,
            size: 2000,
            nblocks: 1954,
            ninodes: 200,
            nlog: 30,
            logstart: 2,
            inodestart: 32,
            bmapstart: 45,
        }
    );
}

#[test]
fn root_dir_has_dot_dotdot_and_files_in_order() {
    let img = make_fs_image(&[("README", b"hello"), ("cat", b"\x7fELF")]).unwrap();
    let r = FsReader::new(&img).unwrap();
    let root = r.inode(ROOTINO).unwrap();
    assert_eq!(root.typ, T_DIR);
    assert_eq!(root.nlink, 1);
    assert_eq!(
        root.size, BSIZE as u32,
        "xv6 rounds the root size up to a block"
    );
    let ents = r.dir_entries(ROOTINO).unwrap();
    assert_eq!(
        ents,
        vec![
            (1, ".".to_string()),
            (1, "..".to_string()),
            (2, "README".to_string()),
            (3, "cat".to_string())
        ]
    );
    assert_eq!(r.inode(2).unwrap().typ, T_FILE);
    assert_eq!(r.inode(4).unwrap().typ, 0);
}

#[test]
fn contents_round_trip_including_indirect_blocks() {
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 1024) as u8).collect();
    let small = b"exactly fourteen bytes".to_vec();
    let img = make_fs_image(&[("big", &big), ("small", &small), ("empty", b"")]).unwrap();
    let r = FsReader::new(&img).unwrap();
    assert_eq!(r.read_root_file("big").unwrap(), big);
    assert_eq!(r.read_root_file("small").unwrap(), small);
    assert_eq!(r.read_root_file("empty").unwrap(), Vec::<u8>::new());
    assert!(
        r.inode(2).unwrap().addrs[NDIRECT] != 0,
        "200 KB file uses the indirect block"
    );
}

#[test]
fn bitmap_covers_exactly_the_used_blocks() {
    let data = vec![0xabu8; 30_000];
    let img = make_fs_image(&[("a", &data), ("b", b"x")]).unwrap();
    let r = FsReader::new(&img).unwrap();
    let mut used: Vec<u32> = (0..NMETA).collect();
    for inum in 1..4 {
        used.extend(r.blocks_of(&r.inode(inum).unwrap()).unwrap());
    }
    used.sort();
    used.dedup();
    // Blocks are handed out consecutively, so the used set is a prefix.
    assert_eq!(used, (0..used.len() as u32).collect::<Vec<_>>());
    for b in 0..2000 {
        assert_eq!(
            r.block_used(b).unwrap(),
            (b as usize) < used.len(),
            "block {b}"
        );
    }
}

#[test]
fn bad_inputs_are_errors() {
    assert!(matches!(
        make_fs_image(&[("fifteen_chars_x", b"")]),
        Err(MkfsError::BadName(_))
    ));
    assert!(matches!(
        make_fs_image(&[("a/b", b"")]),
        Err(MkfsError::BadName(_))
    ));
    assert!(matches!(
        make_fs_image(&[("a", b""), ("a", b"")]),
        Err(MkfsError::Duplicate(_))
    ));
    let huge = vec![0u8; MAXFILE * BSIZE + 1];
    assert!(matches!(
        make_fs_image(&[("h", &huge)]),
        Err(MkfsError::FileTooBig { .. })
    ));
    let big = vec![0u8; MAXFILE * BSIZE];
    let many: Vec<(String, &[u8])> = (0..8).map(|i| (format!("f{i}"), big.as_slice())).collect();
    let refs: Vec<(&str, &[u8])> = many.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    assert_eq!(make_fs_image(&refs), Err(MkfsError::DiskFull));
}

#[test]
fn image_name_strips_path_and_underscore() {
    assert_eq!(image_name("user/_cat"), "cat");
    assert_eq!(image_name("/a/b/README"), "README");
    assert_eq!(image_name("_"), "");
}
