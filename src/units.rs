//! Numbers written for people: `61,706` parameters, `1.2 MB` of activations.

/// `61706` → `61,706`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1, "problem"` → `1 problem`, `3, "class"` → `3 classes`: a count with its noun in the
/// right number (English plurals of the nouns netloom counts: -s, or -es after s, x, ch, sh).
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        return format!("1 {noun}");
    }
    let es = ["s", "x", "ch", "sh"].iter().any(|end| noun.ends_with(end));
    format!("{} {noun}{}", thousands(n), if es { "es" } else { "s" })
}

/// `1234567` → `1.2 MB` (decimal units).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A measured value to 4 significant figures, without an exponent for everyday sizes:
/// `0.012346` → `0.01235`, `123456.7` → `123457`, `3.0` → `3`.
pub fn sig(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v != 0.0 && !(1e-4..1e9).contains(&v.abs()) {
        return format!("{v:.3e}");
    }
    let magnitude = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    let decimals = (3 - magnitude).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(61706), "61,706");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(count(1, "problem"), "1 problem");
        assert_eq!(count(2, "problem"), "2 problems");
        assert_eq!(count(1, "class"), "1 class");
        assert_eq!(count(10, "class"), "10 classes");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_234_567), "1.2 MB");
        assert_eq!(sig(0.012346), "0.01235");
        assert_eq!(sig(123456.7), "123457");
        assert_eq!(sig(3.0), "3");
        assert_eq!(sig(-2.5), "-2.5");
        assert_eq!(sig(0.0), "0");
    }
}
