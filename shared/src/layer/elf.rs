//! The first 20 bytes of an ELF file (System V ABI, `e_ident` + `e_type` + `e_machine`):
//! enough to tell which CPU a binary is for, so an arm64 image that ships x86-64
//! executables can be flagged without keeping any file data.

/// Bytes of the header prefix [`ElfInfo::parse`] reads.
pub const ELF_HEAD_BYTES: usize = 20;

/// `e_type` of an executable.
pub const ET_EXEC: u16 = 2;
/// `e_type` of a shared object (libraries, and position-independent executables).
pub const ET_DYN: u16 = 3;

/// ELF word size (`EI_CLASS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ElfClass {
    /// `ELFCLASS32`.
    #[serde(rename = "32")]
    Elf32,
    /// `ELFCLASS64`.
    #[serde(rename = "64")]
    Elf64,
}

/// What an ELF header says about the code in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ElfInfo {
    /// 32- or 64-bit.
    pub class: ElfClass,
    /// Byte order (`EI_DATA` = `ELFDATA2MSB`).
    pub big_endian: bool,
    /// `e_machine` (62 x86-64, 183 AArch64, 40 ARM, 3 i386, …), read in the file's order.
    pub machine: u16,
    /// `e_type` (1 relocatable, 2 executable, 3 shared object, 4 core).
    pub file_type: u16,
}

impl ElfInfo {
    /// The header of a file whose data starts with `head`; `None` unless it has the ELF
    /// magic, a known class and byte order, and all 20 bytes.
    pub fn parse(head: &[u8]) -> Option<ElfInfo> {
        let head = head.get(..ELF_HEAD_BYTES)?;
        if &head[..4] != b"\x7fELF" {
            return None;
        }
        let class = match head[4] {
            1 => ElfClass::Elf32,
            2 => ElfClass::Elf64,
            _ => return None,
        };
        let big_endian = match head[5] {
            1 => false,
            2 => true,
            _ => return None,
        };
        let half = |at: usize| {
            let b = [head[at], head[at + 1]];
            if big_endian {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        Some(ElfInfo {
            class,
            big_endian,
            machine: half(18),
            file_type: half(16),
        })
    }

    /// Whether the file is code a CPU loads: an executable or a shared object (object
    /// files and core dumps are not run).
    pub fn is_loadable(&self) -> bool {
        matches!(self.file_type, ET_EXEC | ET_DYN)
    }

    /// A short name for the machine (`x86-64`, `AArch64`, …; `machine 1234` otherwise).
    pub fn machine_name(&self) -> String {
        machine_name(self.machine).map_or_else(|| format!("machine {}", self.machine), Into::into)
    }

    /// `ELF 64-bit LSB x86-64`, as `file(1)` would start.
    pub fn describe(&self) -> String {
        let bits = match self.class {
            ElfClass::Elf32 => 32,
            ElfClass::Elf64 => 64,
        };
        let order = if self.big_endian { "MSB" } else { "LSB" };
        format!("ELF {bits}-bit {order} {}", self.machine_name())
    }
}

/// Names of the `e_machine` values container images meet.
fn machine_name(machine: u16) -> Option<&'static str> {
    Some(match machine {
        2 => "SPARC",
        3 => "Intel 80386",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC64",
        22 => "IBM S/390",
        40 => "ARM",
        43 => "SPARC V9",
        50 => "IA-64",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        247 => "eBPF",
        258 => "LoongArch",
        _ => return None,
    })
}

/// A 20-byte ELF header prefix (`data` 1 little-endian, 2 big-endian), for tests.
#[cfg(test)]
pub(crate) fn test_head(class: u8, data: u8, file_type: u16, machine: u16) -> Vec<u8> {
    let mut h = b"\x7fELF".to_vec();
    h.extend_from_slice(&[class, data, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let (t, m) = if data == 2 {
        (file_type.to_be_bytes(), machine.to_be_bytes())
    } else {
        (file_type.to_le_bytes(), machine.to_le_bytes())
    };
    h.extend_from_slice(&t);
    h.extend_from_slice(&m);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(class: u8, data: u8, file_type: u16, machine: u16) -> Vec<u8> {
        test_head(class, data, file_type, machine)
    }

    #[test]
    fn reads_class_order_type_and_machine() {
        let x86 = ElfInfo::parse(&head(2, 1, ET_DYN, 62)).unwrap();
        assert_eq!(
            x86,
            ElfInfo {
                class: ElfClass::Elf64,
                big_endian: false,
                machine: 62,
                file_type: ET_DYN
            }
        );
        assert!(x86.is_loadable());
        assert_eq!(x86.describe(), "ELF 64-bit LSB x86-64");
        let s390 = ElfInfo::parse(&head(2, 2, ET_EXEC, 22)).unwrap();
        assert_eq!((s390.machine, s390.big_endian), (22, true));
        let obj = ElfInfo::parse(&head(1, 1, 1, 40)).unwrap();
        assert_eq!((obj.class, obj.is_loadable()), (ElfClass::Elf32, false));
        assert_eq!(
            ElfInfo::parse(&head(2, 1, 2, 9999)).unwrap().machine_name(),
            "machine 9999"
        );
    }

    #[test]
    fn not_elf_short_or_unknown_class() {
        assert_eq!(ElfInfo::parse(b"\x7fELF"), None);
        assert_eq!(ElfInfo::parse(&head(2, 1, 2, 62)[..19]), None);
        assert_eq!(ElfInfo::parse(&head(3, 1, 2, 62)), None);
        assert_eq!(ElfInfo::parse(&head(2, 0, 2, 62)), None);
        let mut text = head(2, 1, 2, 62);
        text[0] = b'#';
        assert_eq!(ElfInfo::parse(&text), None);
    }
}
