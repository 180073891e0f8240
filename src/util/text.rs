//! Wording shared by messages at the edge (util) (render, warnings): counts with the right noun
//! form.

/// "1 certificate", "2 certificates": `noun` is the singular; the plural adds an "s".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn singular_and_plural() {
        assert_eq!(super::count(1, "certificate"), "1 certificate");
        assert_eq!(super::count(0, "certificate"), "0 certificates");
        assert_eq!(super::count(171, "certificate"), "171 certificates");
    }
}
