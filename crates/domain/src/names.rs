//! Personal names as students type them, and the masked form shown to others.
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("姓名需为 2-30 个汉字或字母，可含间隔号“·”")]
pub struct NameError;

/// Trims and checks a real name: 2–30 characters of CJK ideographs, letters, spaces or the
/// middle dot used in transliterated and minority names.
pub fn normalise_name(input: &str) -> Result<String, NameError> {
    let name = input.trim();
    let count = name.chars().count();
    let allowed = |c: char| c.is_alphabetic() || c == '·' || c == '•' || c == ' ';
    if (2..=30).contains(&count) && name.chars().all(allowed) {
        Ok(name.to_string())
    } else {
        Err(NameError)
    }
}

/// The form a name is indexed under (the blind index of `search`): trimmed, inner spaces
/// dropped, the middle dot written one way, letters upper-cased — so `Ayi Nuer`, `AYINUER` and
/// ` ayi nuer ` find the same student, and `阿依•努尔` finds `阿依·努尔`.
pub fn index_form(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c == '•' { '·' } else { c })
        .flat_map(char::to_uppercase)
        .collect()
}

/// 张三 → 张*, 张小三 → 张*三, 欧阳小华 → 欧**华: first and last character kept.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => {
            let mut out = String::new();
            out.push(chars[0]);
            out.extend(std::iter::repeat_n('*', n - 2));
            out.push(chars[n - 1]);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_first_and_last() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张小三"), "张*三");
        assert_eq!(mask_name("欧阳小华"), "欧**华");
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn names_are_validated() {
        assert_eq!(normalise_name("  李雷 ").as_deref(), Ok("李雷"));
        assert!(normalise_name("阿卜杜·热合曼").is_ok());
        assert!(normalise_name("Li Lei").is_ok());
        assert_eq!(normalise_name("李"), Err(NameError));
        assert_eq!(normalise_name("李雷1"), Err(NameError));
        assert_eq!(normalise_name(&"李".repeat(31)), Err(NameError));
    }
}
