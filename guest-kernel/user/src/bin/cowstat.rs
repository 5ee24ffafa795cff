//! cowstat: prints the kernel's copy-on-write counters (rvcow system call SYS_COWSTAT, 22),
//! one `name value` pair per line: COW faults, pages, RAM (`total_pages`), and the
//! on-demand-fork kernel's shared page-table pages (0 on the other kernels).
#![no_std]
#![no_main]
use ulib::*;
entry!(main);

fn main(_args: Args) -> i32 {
    let mut st = CowStat::default();
    if cowstat(&mut st) < 0 {
        fprintf!(2, "cowstat: the kernel does not support SYS_COWSTAT\n");
        return 1;
    }
    printf!(
        "cow_faults {}\npages_copied {}\npages_reused {}\npages_shared {}\nfree_pages {}\ntotal_pages {}\n",
        st.cow_faults,
        st.pages_copied,
        st.pages_reused,
        st.pages_shared,
        st.free_pages,
        st.total_pages
    );
    // Shared last-level page-table pages: only the on-demand-fork kernel (kernel-odf.img).
    printf!(
        "leaf_tables_shared {}\nleaf_tables_unshared_by_copy {}\nleaf_tables_taken_over {}\n",
        st.leaf_tables_shared,
        st.leaf_tables_copied,
        st.leaf_tables_taken_over
    );
    0
}
