//! The architecture check: executables and libraries whose ELF machine, word size or
//! byte order is not the platform's (an arm64 image shipping x86-64 binaries runs only
//! under emulation, or not at all).

use crate::layer::{ElfClass, ElfInfo};
use crate::tree::MergedTree;

/// What ELF code of an OCI platform architecture looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExpectedElf {
    /// `e_machine`.
    pub machine: u16,
    /// Word size.
    pub class: ElfClass,
    /// Byte order.
    pub big_endian: bool,
}

impl ExpectedElf {
    /// Whether `elf` is code for this architecture.
    pub fn matches(&self, elf: &ElfInfo) -> bool {
        elf.machine == self.machine && elf.class == self.class && elf.big_endian == self.big_endian
    }
}

/// The ELF signature of an OCI/Go `GOARCH` architecture name, `None` for one not known.
pub fn expected_elf(architecture: &str) -> Option<ExpectedElf> {
    use ElfClass::{Elf32, Elf64};
    let (machine, class, big_endian) = match architecture {
        "amd64" => (62, Elf64, false),
        "arm64" => (183, Elf64, false),
        "arm" => (40, Elf32, false),
        "386" => (3, Elf32, false),
        "ppc64le" => (21, Elf64, false),
        "ppc64" => (21, Elf64, true),
        "s390x" => (22, Elf64, true),
        "riscv64" => (243, Elf64, false),
        "mips64le" => (8, Elf64, false),
        "mips64" => (8, Elf64, true),
        "mipsle" => (8, Elf32, false),
        "mips" => (8, Elf32, true),
        "loong64" => (258, Elf64, false),
        _ => return None,
    };
    Some(ExpectedElf {
        machine,
        class,
        big_endian,
    })
}

/// Why the check cannot run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArchError {
    /// The platform names an architecture this check has no ELF signature for.
    #[error(
        "unknown architecture {0:?}: expected an OCI name such as amd64, arm64, arm, 386, ppc64le, s390x, riscv64 or mips64le"
    )]
    UnknownArchitecture(String),
}

/// One executable or library built for another machine.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ForeignBinary {
    /// Normalized path.
    pub path: String,
    /// Its ELF header.
    pub elf: ElfInfo,
    /// Its size.
    pub size: u64,
    /// The platform's CPUs commonly run it natively anyway: i386 code on amd64, 32-bit
    /// ARM on arm64 (where the CPU keeps AArch32). Multilib images hold such files.
    pub compat: bool,
}

/// Present executables and shared objects (ELF `ET_EXEC`/`ET_DYN`) whose machine is not
/// `architecture`'s, in path order. Object files and core dumps are not code a
/// container loads and are left out.
pub fn foreign_binaries(
    tree: &MergedTree,
    architecture: &str,
) -> Result<Vec<ForeignBinary>, ArchError> {
    let want = expected_elf(architecture)
        .ok_or_else(|| ArchError::UnknownArchitecture(architecture.to_owned()))?;
    let compat = |elf: &ElfInfo| match architecture {
        "amd64" => expected_elf("386").is_some_and(|e| e.matches(elf)),
        "arm64" => expected_elf("arm").is_some_and(|e| e.matches(elf)),
        _ => false,
    };
    Ok(tree
        .present()
        .filter_map(|(path, n)| {
            let elf = n.elf?;
            (elf.is_loadable() && !want.matches(&elf)).then(|| ForeignBinary {
                path: path.to_owned(),
                elf,
                size: n.size,
                compat: compat(&elf),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::test_head;
    use crate::tree::test_tar::{E, layer, merged};

    fn elf(machine: u16, class: u8, file_type: u16) -> Vec<u8> {
        let mut b = test_head(class, 1, file_type, machine);
        b.extend_from_slice(&[0; 64]);
        b
    }

    #[test]
    fn flags_x86_64_in_arm64_and_not_a_match() {
        let (x86, arm64, i386, obj) = (elf(62, 2, 2), elf(183, 2, 3), elf(3, 1, 2), elf(62, 2, 1));
        let tree = merged(&[layer(&[
            E::File("usr/bin/tool", &x86),
            E::Hardlink("usr/bin/tool2", "usr/bin/tool"),
            E::File("usr/lib/libc.so", &arm64),
            E::File("usr/lib32/ld.so", &i386),
            E::File("usr/lib/x.o", &obj),
            E::File("etc/motd", b"\x7fELF but short"),
        ])]);
        let on_arm = foreign_binaries(&tree, "arm64").unwrap();
        let paths: Vec<_> = on_arm.iter().map(|f| (f.path.as_str(), f.compat)).collect();
        assert_eq!(
            paths,
            [
                ("usr/bin/tool", false),
                ("usr/bin/tool2", false),
                ("usr/lib32/ld.so", false)
            ]
        );
        assert_eq!(on_arm[0].elf.describe(), "ELF 64-bit LSB x86-64");
        let on_amd = foreign_binaries(&tree, "amd64").unwrap();
        let paths: Vec<_> = on_amd.iter().map(|f| (f.path.as_str(), f.compat)).collect();
        assert_eq!(
            paths,
            [("usr/lib/libc.so", false), ("usr/lib32/ld.so", true)]
        );
        assert_eq!(
            foreign_binaries(&tree, "vax"),
            Err(ArchError::UnknownArchitecture("vax".into()))
        );
    }

    #[test]
    fn byte_order_and_word_size_count() {
        let be = test_head(2, 2, 2, 21);
        let le = test_head(2, 1, 2, 21);
        let ppc = |b: &[u8]| ElfInfo::parse(b).unwrap();
        assert!(expected_elf("ppc64le").unwrap().matches(&ppc(&le)));
        assert!(!expected_elf("ppc64le").unwrap().matches(&ppc(&be)));
        assert!(expected_elf("ppc64").unwrap().matches(&ppc(&be)));
        let x32 = ElfInfo::parse(&test_head(1, 1, 2, 62)).unwrap();
        assert!(!expected_elf("amd64").unwrap().matches(&x32));
    }
}
