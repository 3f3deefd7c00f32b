//! Sigma string values: wildcards, escapes, and the compiled text patterns they become.
//!
//! A Sigma value such as `*\\cmd.exe` is parsed into [`Token`]s (the escape rules of the
//! specification: `\*` `\?` `\\` escape, any other backslash is literal), then compiled into
//! the cheapest [`TextPattern`] that matches it: equality, prefix, suffix, substring, or a
//! general glob.

/// One piece of a Sigma string value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Token {
    Lit(String),
    /// `*`: any run of characters (possibly empty).
    Star,
    /// `?`: exactly one character.
    One,
}

/// Parse a Sigma string into tokens following the specification's escape rules.
pub fn tokenize(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    lit.push(n);
                    chars.next();
                }
                _ => lit.push('\\'),
            },
            '*' => {
                if !lit.is_empty() {
                    out.push(Token::Lit(std::mem::take(&mut lit)));
                }
                if out.last() != Some(&Token::Star) {
                    out.push(Token::Star);
                }
            }
            '?' => {
                if !lit.is_empty() {
                    out.push(Token::Lit(std::mem::take(&mut lit)));
                }
                out.push(Token::One);
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Token::Lit(lit));
    }
    out
}

/// Tokens for a plain literal (no wildcard meaning).
pub fn literal(s: &str) -> Vec<Token> {
    if s.is_empty() {
        Vec::new()
    } else {
        vec![Token::Lit(s.to_string())]
    }
}

/// The literal text of tokens, wildcards written back as `*`/`?` (for encodings and display).
pub fn plain_text(tokens: &[Token]) -> String {
    let mut s = String::new();
    for t in tokens {
        match t {
            Token::Lit(l) => s.push_str(l),
            Token::Star => s.push('*'),
            Token::One => s.push('?'),
        }
    }
    s
}

/// Lowercase for case-insensitive comparison; ASCII fast path.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// A substring to search for, with its searcher built once.
#[derive(Clone, Debug)]
pub struct Needle {
    text: String,
    finder: memchr::memmem::Finder<'static>,
}

impl Needle {
    pub fn new(text: String) -> Needle {
        let finder = memchr::memmem::Finder::new(text.as_bytes()).into_owned();
        Needle { text, finder }
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
    #[inline]
    pub fn is_in(&self, hay: &str) -> bool {
        self.finder.find(hay.as_bytes()).is_some()
    }
}

impl PartialEq for Needle {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for Needle {}
impl std::hash::Hash for Needle {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.text.hash(h)
    }
}

/// A compiled text pattern. Case-insensitive patterns hold lowercased text and must be given
/// lowercased input ([`fold`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TextPattern {
    Equals(String),
    Prefix(String),
    Suffix(String),
    Contains(Box<Needle>),
    /// `prefix*suffix` with nothing else.
    PrefixSuffix(String, String),
    /// Anything else: a general glob over tokens.
    Glob(Vec<Token>),
}

impl TextPattern {
    /// Compile tokens (lowercasing literals when `fold_case`).
    pub fn compile(tokens: &[Token], fold_case: bool) -> TextPattern {
        let norm = |s: &str| if fold_case { fold(s) } else { s.to_string() };
        match tokens {
            [] => TextPattern::Equals(String::new()),
            [Token::Lit(a)] => TextPattern::Equals(norm(a)),
            [Token::Star] => TextPattern::Prefix(String::new()),
            [Token::Lit(a), Token::Star] => TextPattern::Prefix(norm(a)),
            [Token::Star, Token::Lit(a)] => TextPattern::Suffix(norm(a)),
            [Token::Star, Token::Lit(a), Token::Star] => {
                TextPattern::Contains(Box::new(Needle::new(norm(a))))
            }
            [Token::Lit(a), Token::Star, Token::Lit(b)] => {
                TextPattern::PrefixSuffix(norm(a), norm(b))
            }
            _ => TextPattern::Glob(
                tokens
                    .iter()
                    .map(|t| match t {
                        Token::Lit(l) => Token::Lit(norm(l)),
                        other => other.clone(),
                    })
                    .collect(),
            ),
        }
    }

    #[inline]
    pub fn matches(&self, s: &str) -> bool {
        match self {
            TextPattern::Equals(p) => s == p,
            TextPattern::Prefix(p) => s.starts_with(p.as_str()),
            TextPattern::Suffix(p) => s.ends_with(p.as_str()),
            TextPattern::Contains(p) => p.is_in(s),
            TextPattern::PrefixSuffix(a, b) => {
                s.len() >= a.len() + b.len() && s.starts_with(a.as_str()) && s.ends_with(b.as_str())
            }
            TextPattern::Glob(t) => glob_match(t, s),
        }
    }
}

/// Glob matching over tokens, without allocating. Literals and `*` only (the common case):
/// linear, each literal found leftmost after the one before. With `?`: the classic greedy
/// algorithm with one remembered star position, O(len(s) * pattern) at worst (no
/// backtracking blow-up).
pub fn glob_match(tokens: &[Token], s: &str) -> bool {
    if tokens.contains(&Token::One) {
        one_star_match(tokens, s)
    } else {
        star_match(tokens, s)
    }
}

/// [`glob_match`] for literals and stars.
fn star_match(tokens: &[Token], s: &str) -> bool {
    let (mut t, mut rest) = (tokens, s);
    // A leading literal is anchored at the start...
    if let Some((Token::Lit(a), after)) = t.split_first() {
        let Some(r) = rest.strip_prefix(a.as_str()) else {
            return false;
        };
        (t, rest) = (after, r);
    }
    if t.is_empty() {
        return rest.is_empty();
    }
    // ...a trailing one at the end (what is left begins with a star)...
    if let Some((Token::Lit(b), before)) = t.split_last() {
        let Some(r) = rest.strip_suffix(b.as_str()) else {
            return false;
        };
        (t, rest) = (before, r);
    }
    // ...and those between stars are found in order, each as early as it occurs.
    for tok in t {
        if let Token::Lit(l) = tok {
            match rest.find(l.as_str()) {
                Some(i) => rest = &rest[i + l.len()..],
                None => return false,
            }
        }
    }
    true
}

/// One step of a pattern with `?`: what is at a position (token, byte offset in a literal)
/// and the position after it.
enum Step {
    Char(char, (usize, usize)),
    One((usize, usize)),
    Star((usize, usize)),
    End,
}

fn step(tokens: &[Token], (mut t, mut o): (usize, usize)) -> Step {
    loop {
        return match tokens.get(t) {
            None => Step::End,
            Some(Token::Star) => Step::Star((t + 1, 0)),
            Some(Token::One) => Step::One((t + 1, 0)),
            Some(Token::Lit(l)) => match l.get(o..).and_then(|r| r.chars().next()) {
                Some(c) => {
                    let o = o + c.len_utf8();
                    Step::Char(c, if o >= l.len() { (t + 1, 0) } else { (t, o) })
                }
                None => {
                    (t, o) = (t + 1, 0);
                    continue;
                }
            },
        };
    }
}

/// [`glob_match`] for patterns with `?`, over characters.
fn one_star_match(tokens: &[Token], s: &str) -> bool {
    let (mut p, mut i) = ((0, 0), 0usize);
    // Where the last star was: the pattern after it and the text it stands in front of.
    let mut star: Option<((usize, usize), usize)> = None;
    while let Some(c) = s.get(i..).and_then(|r| r.chars().next()) {
        match step(tokens, p) {
            Step::Char(pc, next) if pc == c => (p, i) = (next, i + c.len_utf8()),
            Step::One(next) => (p, i) = (next, i + c.len_utf8()),
            Step::Star(next) => {
                star = Some((next, i));
                p = next;
            }
            _ => {
                // Give the last star one more character, or fail.
                let Some((after, at)) = star else {
                    return false;
                };
                let Some(sc) = s.get(at..).and_then(|r| r.chars().next()) else {
                    return false;
                };
                let at = at + sc.len_utf8();
                star = Some((after, at));
                (p, i) = (after, at);
            }
        }
    }
    loop {
        match step(tokens, p) {
            Step::Star(next) => p = next,
            Step::End => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Token::*;

    fn lit(s: &str) -> Token {
        Lit(s.into())
    }

    #[test]
    fn escapes_follow_the_specification() {
        // Plain backslash not followed by a wildcard: single or double.
        assert_eq!(
            tokenize(r"C:\Windows\cmd.exe"),
            vec![lit(r"C:\Windows\cmd.exe")]
        );
        assert_eq!(tokenize(r"C:\\Windows"), vec![lit(r"C:\Windows")]);
        // Escaped wildcards are plain characters.
        assert_eq!(tokenize(r"a\*b\?c"), vec![lit("a*b?c")]);
        // Escaped backslash before a wildcard: backslash then a real wildcard.
        assert_eq!(tokenize(r"a\\*"), vec![lit(r"a\"), Star]);
        // Three backslashes: backslash and wildcard both plain.
        assert_eq!(tokenize(r"a\\\*"), vec![lit(r"a\*")]);
        // Three or four backslashes are a double backslash.
        assert_eq!(tokenize(r"a\\\\b"), vec![lit(r"a\\b")]);
        assert_eq!(tokenize(r"a\\\b"), vec![lit(r"a\\b")]);
        // Trailing backslash stays.
        assert_eq!(tokenize(r"C:\Temp\"), vec![lit(r"C:\Temp\")]);
        assert_eq!(tokenize("**a?"), vec![Star, lit("a"), One]);
    }

    #[test]
    fn compiles_to_cheap_forms() {
        let c = |s: &str| TextPattern::compile(&tokenize(s), true);
        assert_eq!(c("ABC"), TextPattern::Equals("abc".into()));
        assert_eq!(c("ab*"), TextPattern::Prefix("ab".into()));
        assert_eq!(c(r"*\cmd.exe"), TextPattern::Suffix(r"\cmd.exe".into()));
        assert_eq!(
            c("*x*"),
            TextPattern::Contains(Box::new(Needle::new("x".into())))
        );
        assert_eq!(c("a*b"), TextPattern::PrefixSuffix("a".into(), "b".into()));
        assert!(matches!(c("a?b"), TextPattern::Glob(_)));
        assert!(!c("a*b").matches("b"));
        assert!(c("a*b").matches("ab"));
    }

    /// Every pattern of up to five of `a`, `b`, `*`, `?` against every text of up to five
    /// of `a`, `b`, `é`: the same verdict as the regular expression the pattern stands for.
    #[test]
    fn glob_agrees_with_regex_on_small_cases() {
        fn all(alphabet: &[&str], max: usize) -> Vec<String> {
            let mut out = vec![String::new()];
            let mut last = vec![String::new()];
            for _ in 0..max {
                last = last
                    .iter()
                    .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                    .collect();
                out.extend(last.iter().cloned());
            }
            out
        }
        let texts = all(&["a", "b", "\u{e9}"], 5);
        for p in all(&["a", "b", "*", "?"], 5) {
            let re = format!("(?s)^{}$", p.replace('*', ".*").replace('?', "."));
            let re = regex::Regex::new(&re).unwrap();
            let tokens = tokenize(&p);
            for t in &texts {
                assert_eq!(glob_match(&tokens, t), re.is_match(t), "{p:?} on {t:?}");
            }
        }
    }

    #[test]
    fn glob_semantics() {
        let g = |p: &str, s: &str| glob_match(&tokenize(p), s);
        assert!(g("prog?.exe", "progA.exe"));
        assert!(!g("prog?.exe", "prog.exe"));
        assert!(g("antivirus_V*.exe", "antivirus_V21.2.1.exe"));
        assert!(g("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!g("*a*b*c*", "xxaxxcxxbxx"));
        assert!(g("a*", "a"));
        assert!(g("?ä*", "xäy"));
        assert!(g("*", ""));
        assert!(g("", ""));
        assert!(!g("", "x"));
        assert!(g("a*b", "ab"));
        assert!(!g("ab*b", "ab"));
        assert!(g("ab*b", "abb"));
        assert!(g("* -e* jab*", "powershell -enc jabc"));
        assert!(!g("* -e* jab*", "powershell -enc xyz"));
        assert!(g("*.exe", "a.exe.exe"));
        assert!(!g("*.exe", "a.exe.txt"));
        assert!(g("a*?", "ab"));
        assert!(!g("a*?", "a"));
        assert!(g("*?x", "äx"));
        assert!(g("?*x*?", "ax\u{e9}"));
        assert!(!g("?*x*?", "ax"));
        // Pathological pattern stays fast (linear-ish).
        let s = "a".repeat(5000);
        assert!(!g(&format!("{}b", "*a".repeat(50)), &s));
        assert!(!g(&format!("{}?b", "*a".repeat(50)), &s));
    }
}
