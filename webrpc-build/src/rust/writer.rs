//! Writing Rust text already in rustfmt's layout, for the few constructs the generator uses.
//!
//! rustfmt's rules that matter here (default configuration): lines of at most 100 columns,
//! attribute arguments on one line when they take at most 70 columns (else one per line), a
//! derive list on one line when it fits (else one per line, with a trailing comma), call
//! arguments on one line when they take at most 60 columns, array elements likewise, and a
//! function signature on one line when it fits (else one parameter per line).

/// rustfmt's `max_width`.
const MAX_WIDTH: usize = 100;
/// rustfmt's `attr_fn_like_width`.
const ATTR_ARGS_WIDTH: usize = 70;
/// rustfmt's `fn_call_width`.
const CALL_ARGS_WIDTH: usize = 60;
/// rustfmt's `array_width`.
const ARRAY_WIDTH: usize = 60;
/// rustfmt's `chain_width`.
const CHAIN_WIDTH: usize = 60;

/// The generated text, built line by line.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: String,
}

impl Writer {
    pub(crate) fn finish(self) -> String {
        self.out
    }

    /// A line at `indent` levels (four spaces each); an empty text is an empty line.
    pub(crate) fn line(&mut self, indent: usize, text: &str) {
        if !text.is_empty() {
            for _ in 0..indent {
                self.out.push_str("    ");
            }
            self.out.push_str(text);
        }
        self.out.push('\n');
    }

    /// An empty line, unless the text already ends with one or with an opening brace.
    pub(crate) fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") && !self.out.ends_with("{\n") {
            self.out.push('\n');
        }
    }

    /// `///` lines.
    pub(crate) fn doc(&mut self, indent: usize, lines: &[String]) {
        for line in lines {
            if line.is_empty() {
                self.line(indent, "///");
            } else {
                self.line(indent, &format!("/// {line}"));
            }
        }
    }

    /// `///` lines of the generator's own prose, each paragraph wrapped at 100 columns.
    pub(crate) fn prose(&mut self, indent: usize, paragraphs: &[String]) {
        let width = MAX_WIDTH.saturating_sub(indent * 4 + 4).max(40);
        let mut lines = Vec::new();
        for (i, paragraph) in paragraphs.iter().enumerate() {
            if i > 0 {
                lines.push(String::new());
            }
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                if !line.is_empty() && line.len() + 1 + word.len() > width {
                    lines.push(std::mem::take(&mut line));
                }
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
            }
            lines.push(line);
        }
        self.doc(indent, &lines);
    }

    /// `#[name(item, item)]`, or one item per line when too wide.
    pub(crate) fn attr(&mut self, indent: usize, name: &str, items: &[String]) {
        let args = items.join(", ");
        let one_line = format!("#[{name}({args})]");
        let is_derive = name == "derive";
        let fits = indent * 4 + one_line.len() <= MAX_WIDTH;
        if fits && (is_derive || items.len() == 1 || args.len() <= ATTR_ARGS_WIDTH) {
            self.line(indent, &one_line);
            return;
        }
        self.line(indent, &format!("#[{name}("));
        for (i, item) in items.iter().enumerate() {
            let comma = if i + 1 < items.len() || is_derive {
                ","
            } else {
                ""
            };
            self.line(indent + 1, &format!("{item}{comma}"));
        }
        self.line(indent, ")]");
    }

    /// `{prefix}{ty}{suffix}` where `ty` is a type: on one line when it fits, else with the
    /// type alone on the next line when it fits there, else with the outermost generic
    /// arguments one per line (and so on inwards), as rustfmt breaks types.
    pub(crate) fn typed(&mut self, indent: usize, prefix: &str, ty: &str, suffix: &str) {
        let one_line = format!("{prefix}{ty}{suffix}");
        if indent * 4 + one_line.len() <= MAX_WIDTH {
            self.line(indent, &one_line);
            return;
        }
        // rustfmt first moves the whole type to the next line, if it fits there.
        let next_line = format!("{ty}{suffix}");
        if !prefix.trim().is_empty() && (indent + 1) * 4 + next_line.len() <= MAX_WIDTH {
            self.line(indent, prefix.trim_end());
            self.line(indent + 1, &next_line);
            return;
        }
        let Some((head, args)) = split_generics(ty) else {
            self.line(indent, &one_line);
            return;
        };
        self.line(indent, &format!("{prefix}{head}<"));
        for arg in args {
            self.typed(indent + 1, "", arg, ",");
        }
        self.line(indent, &format!(">{suffix}"));
    }

    /// `{head}(params){tail}` as a function signature: on one line when it fits, else one
    /// parameter per line with a trailing comma.
    pub(crate) fn signature(&mut self, indent: usize, head: &str, params: &[String], tail: &str) {
        let one_line = format!("{head}({}){tail}", params.join(", "));
        if indent * 4 + one_line.len() <= MAX_WIDTH {
            self.line(indent, &one_line);
            return;
        }
        self.line(indent, &format!("{head}("));
        for param in params {
            self.line(indent + 1, &format!("{param},"));
        }
        self.line(indent, &format!("){tail}"));
    }

    /// `{head}(params) -> {ret}` then `;` (a declaration) or ` {` (a body follows), broken as
    /// rustfmt breaks them: parameters one per line, then the `{` on its own line, then the
    /// return type's generic arguments.
    pub(crate) fn fn_signature(
        &mut self,
        indent: usize,
        head: &str,
        params: &[String],
        ret: &str,
        body: bool,
    ) {
        let end = if body { " {" } else { ";" };
        let one_line = format!("{head}({}) -> {ret}{end}", params.join(", "));
        if indent * 4 + one_line.len() <= MAX_WIDTH {
            self.line(indent, &one_line);
            return;
        }
        self.line(indent, &format!("{head}("));
        for param in params {
            self.line(indent + 1, &format!("{param},"));
        }
        let closing = format!(") -> {ret}");
        if indent * 4 + closing.len() + end.len() <= MAX_WIDTH {
            self.line(indent, &format!("{closing}{end}"));
        } else if body && indent * 4 + closing.len() <= MAX_WIDTH {
            self.line(indent, &closing);
            self.line(indent, "{");
        } else if let Some((ret_head, args)) = split_generics(ret) {
            self.line(indent, &format!(") -> {ret_head}<"));
            for arg in args {
                self.typed(indent + 1, "", arg, ",");
            }
            self.line(indent, &format!(">{end}"));
        } else {
            self.line(indent, &format!("{closing}{end}"));
        }
    }

    /// `{head}(args){tail}` as a call expression.
    pub(crate) fn call(&mut self, indent: usize, head: &str, args: &[String], tail: &str) {
        let joined = args.join(", ");
        let one_line = format!("{head}({joined}){tail}");
        if indent * 4 + one_line.len() <= MAX_WIDTH && joined.len() <= CALL_ARGS_WIDTH {
            self.line(indent, &one_line);
            return;
        }
        self.line(indent, &format!("{head}("));
        for arg in args {
            self.line(indent + 1, &format!("{arg},"));
        }
        self.line(indent, &format!("){tail}"));
    }

    /// A method chain `{root}.a().b(){suffix}`: on one line when it takes at most 60 columns
    /// (a single call on a plain name, whatever its width) and fits, else one `.call` per line
    /// below the root.
    pub(crate) fn chain(&mut self, indent: usize, root: &str, calls: &[String], suffix: &str) {
        let chain = format!("{root}{}", calls.concat());
        let short = chain.len() <= CHAIN_WIDTH || (calls.len() == 1 && !root.contains('.'));
        if short && indent * 4 + chain.len() + suffix.len() <= MAX_WIDTH {
            self.line(indent, &format!("{chain}{suffix}"));
            return;
        }
        self.line(indent, root);
        for (i, call) in calls.iter().enumerate() {
            let end = if i + 1 == calls.len() { suffix } else { "" };
            self.line(indent + 1, &format!("{call}{end}"));
        }
    }

    /// A match arm `{pattern} => {value},`, or `{pattern} => {` block `}` when too wide.
    pub(crate) fn arm(&mut self, indent: usize, pattern: &str, value: &str) {
        let one_line = format!("{pattern} => {value},");
        if indent * 4 + one_line.len() <= MAX_WIDTH {
            self.line(indent, &one_line);
        } else {
            self.line(indent, &format!("{pattern} => {{"));
            self.line(indent + 1, value);
            self.line(indent, "}");
        }
    }

    /// `{left} {value};`, or the value on the next line when too wide.
    pub(crate) fn assign(&mut self, indent: usize, left: &str, value: &str) {
        let one_line = format!("{left} {value};");
        if indent * 4 + one_line.len() <= MAX_WIDTH {
            self.line(indent, &one_line);
        } else {
            self.line(indent, left);
            self.line(indent + 1, &format!("{value};"));
        }
    }

    /// `async move { chain }`: on one line when it fits, else as a block around the chain.
    pub(crate) fn async_block(&mut self, indent: usize, root: &str, calls: &[String]) {
        let chain = format!("{root}{}", calls.concat());
        let one_line = format!("async move {{ {chain} }}");
        if chain.len() <= CHAIN_WIDTH && indent * 4 + one_line.len() <= MAX_WIDTH {
            self.line(indent, &one_line);
            return;
        }
        self.line(indent, "async move {");
        self.chain(indent + 1, root, calls, "");
        self.line(indent, "}");
    }

    /// `{head}[elements]{tail}` as an array expression.
    pub(crate) fn array(&mut self, indent: usize, head: &str, elements: &[String], tail: &str) {
        let joined = elements.join(", ");
        let one_line = format!("{head}[{joined}]{tail}");
        if indent * 4 + one_line.len() <= MAX_WIDTH && joined.len() <= ARRAY_WIDTH {
            self.line(indent, &one_line);
            return;
        }
        self.line(indent, &format!("{head}["));
        for element in elements {
            self.line(indent + 1, &format!("{element},"));
        }
        self.line(indent, &format!("]{tail}"));
    }
}

/// `Head<A, B<C>>` as `("Head", ["A", "B<C>"])`; `None` without generic arguments.
fn split_generics(ty: &str) -> Option<(&str, Vec<&str>)> {
    let open = ty.find('<')?;
    let inner = ty[open + 1..].strip_suffix('>')?;
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                args.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    args.push(inner[start..].trim());
    Some((&ty[..open], args))
}
