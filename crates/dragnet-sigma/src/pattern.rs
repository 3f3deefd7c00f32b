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

/// Glob matching over tokens in O(len(s) * tokens) worst case (no backtracking blow-up): the
/// classic greedy algorithm with one remembered star position.
pub fn glob_match(tokens: &[Token], s: &str) -> bool {
    // Expand to a char-level program: literal chars, One, Star.
    #[derive(Clone, Copy)]
    enum P {
        C(char),
        Any,
        Star,
    }
    let mut prog: Vec<P> = Vec::new();
    for t in tokens {
        match t {
            Token::Lit(l) => prog.extend(l.chars().map(P::C)),
            Token::One => prog.push(P::Any),
            Token::Star => prog.push(P::Star),
        }
    }
    let text: Vec<char> = s.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < text.len() {
        match prog.get(pi) {
            Some(P::C(c)) if *c == text[ti] => {
                pi += 1;
                ti += 1;
            }
            Some(P::Any) => {
                pi += 1;
                ti += 1;
            }
            Some(P::Star) => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while let Some(P::Star) = prog.get(pi) {
        pi += 1;
    }
    pi == prog.len()
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
        // Pathological pattern stays fast (linear-ish).
        let s = "a".repeat(5000);
        assert!(!g(&format!("{}b", "*a".repeat(50)), &s));
    }
}
