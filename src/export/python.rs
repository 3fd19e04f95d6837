//! Writing Python source safely: every string netloom writes into generated code goes through
//! [`string`], and every name through [`is_plain_attribute`] before it is used as one.

/// Python's keywords and soft keywords: never usable as attribute or variable names.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "_", "case", "match", "type",
];

/// Names `nn.Module`/`nn.ModuleDict` already have (torch 2.11): a submodule of that name would
/// be registered, but `self.eval` would still find the method, so such names are indexed.
const MODULE_ATTRIBUTES: &[&str] = &[
    "T_destination",
    "add_module",
    "apply",
    "bfloat16",
    "buffers",
    "call_super_init",
    "children",
    "clear",
    "compile",
    "cpu",
    "cuda",
    "double",
    "dump_patches",
    "eval",
    "extra_repr",
    "float",
    "forward",
    "get_buffer",
    "get_extra_state",
    "get_parameter",
    "get_submodule",
    "half",
    "ipu",
    "items",
    "keys",
    "load_state_dict",
    "modules",
    "mtia",
    "named_buffers",
    "named_children",
    "named_modules",
    "named_parameters",
    "parameters",
    "pop",
    "register_backward_hook",
    "register_buffer",
    "register_forward_hook",
    "register_forward_pre_hook",
    "register_full_backward_hook",
    "register_full_backward_pre_hook",
    "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook",
    "register_module",
    "register_parameter",
    "register_state_dict_post_hook",
    "register_state_dict_pre_hook",
    "requires_grad_",
    "set_extra_state",
    "set_submodule",
    "share_memory",
    "state_dict",
    "to",
    "to_empty",
    "train",
    "training",
    "type",
    "update",
    "values",
    "xpu",
    "zero_grad",
];

/// Names the generated forward code uses itself.
const TAKEN: &[&str] = &["self", "torch", "nn", "F", "x"];

/// True for names `nn.Module` itself has (or keeps private): `add_module` refuses them.
pub fn is_module_attribute(name: &str) -> bool {
    name.starts_with('_') || MODULE_ATTRIBUTES.contains(&name)
}

/// True for an ASCII identifier that is not a keyword.
pub fn is_identifier(name: &str) -> bool {
    matches!(name.chars().next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}

/// True when `self.<name>` reaches a submodule called `name`: an identifier that is no keyword,
/// no name `nn.Module` already has, and not private.
pub fn is_plain_attribute(name: &str) -> bool {
    is_identifier(name) && !name.starts_with('_') && !MODULE_ATTRIBUTES.contains(&name)
}

/// A local variable name for `node` (`layer1.0.conv1` → `layer1_0_conv1`), safe as Python.
pub fn variable(node: &str) -> String {
    let mut v: String = node
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if v.is_empty() || v.starts_with(|c: char| c.is_ascii_digit()) {
        v.insert(0, '_');
    }
    if !is_identifier(&v) || TAKEN.contains(&v.as_str()) {
        v.push('_');
    }
    v
}

/// A Python string literal holding exactly `s`: printable ASCII stays, everything else
/// (quotes, backslashes, newlines, any non-ASCII) is escaped, so no input can end the string.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Text for inside a docstring (a design's title, from a file name): quotes and backslashes
/// become `'`, and everything but printable ASCII is written as a `\u` escape, so that no
/// name can end the docstring, and no right-to-left or invisible character reorders what a
/// reader sees of the code.
pub fn docstring_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\\' => "'".to_owned(),
            ' '..='~' => c.to_string(),
            c if (c as u32) <= 0xffff => format!("\\u{:04x}", c as u32),
            c => format!("\\U{:08x}", c as u32),
        })
        .collect()
}

/// A float as Python reads it back exactly (`1e-05`, `0.1`, `inf` never occurs: settings are
/// validated finite).
pub fn float(v: f64) -> String {
    if v.is_finite() {
        let s = format!("{v:?}");
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        "float(\"nan\")".to_owned()
    }
}

/// `True` / `False`.
pub fn boolean(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A JSON value as a Python literal: strings through [`string`], `null` as `None`.
pub fn literal(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "None".to_owned(),
        Value::Bool(b) => boolean(*b).to_owned(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => float(f),
            _ => n.to_string(),
        },
        Value::String(s) => string(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", string(k), literal(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_escape_their_quotes() {
        assert_eq!(string("a\"b"), "\"a\\\"b\"");
        assert_eq!(string("x\\\n"), "\"x\\\\\\u000a\"");
        assert_eq!(string("é😀"), "\"\\u00e9\\U0001f600\"");
    }

    #[test]
    fn names_that_are_not_plain_attributes_are_caught() {
        for bad in ["eval", "forward", "in", "lambda", "0", "_private", "train"] {
            assert!(!is_plain_attribute(bad), "{bad}");
        }
        assert!(is_plain_attribute("conv1"));
        assert_eq!(variable("layer1.0.conv1"), "layer1_0_conv1");
        assert_eq!(variable("in"), "in_");
        assert_eq!(variable("x"), "x_");
    }

    #[test]
    fn json_becomes_python() {
        let v = serde_json::json!({"a": [1, 2.5, null, true], "b\"": "x\ny"});
        assert_eq!(
            literal(&v),
            "{\"a\": [1, 2.5, None, True], \"b\\\"\": \"x\\u000ay\"}"
        );
    }

    #[test]
    fn floats_read_back_as_floats() {
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(1e-5), "1e-5");
        assert_eq!(float(0.1), "0.1");
    }

    #[test]
    fn a_title_cannot_end_a_docstring_or_reorder_what_a_reader_sees() {
        // A right-to-left override (U+202E) in a file name, quotes and a backslash.
        assert_eq!(
            docstring_text("net\u{202e}gpj.\"\"\"\\x"),
            "net\\u202egpj.''''x"
        );
        assert_eq!(docstring_text("émoji 😀"), "\\u00e9moji \\U0001f600");
    }
}
