//! Sigma conditions: `selection and not 1 of filter_*`, parsed with the specification's
//! precedence (or < and < not < `x of` < parentheses) into a tree over selection indexes.

/// A condition over the selections of one rule (indexes into the rule's selection list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    Sel(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// At least `n` of the selections (`1 of x*`, `2 of them`).
    AtLeast(usize, Vec<usize>),
    /// Every one of the selections (`all of x*`); true when the set is empty is never reached:
    /// an empty pattern is a compile error.
    All(Vec<usize>),
    Const(bool),
}

impl Cond {
    /// Evaluate with `sel(i)` giving selection i's result (evaluated lazily, short-circuit).
    pub fn eval(&self, sel: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Cond::Sel(i) => sel(*i),
            Cond::Not(c) => !c.eval(sel),
            Cond::And(cs) => cs.iter().all(|c| c.eval(sel)),
            Cond::Or(cs) => cs.iter().any(|c| c.eval(sel)),
            Cond::AtLeast(n, ids) => {
                let mut hits = 0;
                for &i in ids {
                    if sel(i) {
                        hits += 1;
                        if hits >= *n {
                            return true;
                        }
                    }
                }
                false
            }
            Cond::All(ids) => ids.iter().all(|&i| sel(i)),
            Cond::Const(b) => *b,
        }
    }

    /// Selections referenced anywhere in the condition.
    pub fn referenced(&self, out: &mut Vec<usize>) {
        match self {
            Cond::Sel(i) => out.push(*i),
            Cond::Not(c) => c.referenced(out),
            Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| c.referenced(out)),
            Cond::AtLeast(_, ids) | Cond::All(ids) => out.extend(ids),
            Cond::Const(_) => {}
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    And,
    Or,
    Not,
    LParen,
    RParen,
    Of(Quant),
    Pipe,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quant {
    All,
    N(usize),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    for c in s.chars() {
        match c {
            '(' | ')' | '|' => {
                flush(&mut cur, &mut words);
                words.push(c.to_string());
            }
            c if c.is_whitespace() => flush(&mut cur, &mut words),
            c => cur.push(c),
        }
    }
    flush(&mut cur, &mut words);
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let next_is_of = words
            .get(i + 1)
            .is_some_and(|n| n.eq_ignore_ascii_case("of"));
        let t = match w {
            "(" => Tok::LParen,
            ")" => Tok::RParen,
            "|" => Tok::Pipe,
            _ if w.eq_ignore_ascii_case("and") => Tok::And,
            _ if w.eq_ignore_ascii_case("or") => Tok::Or,
            _ if w.eq_ignore_ascii_case("not") => Tok::Not,
            _ if next_is_of && w.eq_ignore_ascii_case("all") => {
                i += 1;
                Tok::Of(Quant::All)
            }
            _ if next_is_of && w.bytes().all(|b| b.is_ascii_digit()) => {
                i += 1;
                let n: usize = w.parse().map_err(|_| format!("bad count {w:?}"))?;
                if n == 0 {
                    return Err("'0 of' is not a valid quantifier".into());
                }
                Tok::Of(Quant::N(n))
            }
            _ if w.eq_ignore_ascii_case("of") => {
                return Err("'of' without a count before it".into())
            }
            _ => Tok::Ident(w.to_string()),
        };
        toks.push(t);
        i += 1;
    }
    Ok(toks)
}

/// Parse a condition. `names` are the rule's selection names, in order.
pub fn parse(s: &str, names: &[String]) -> Result<Cond, String> {
    let toks = lex(s)?;
    if toks.contains(&Tok::Pipe) {
        return Err(
            "aggregation expressions ('| count() ...') are Sigma v1 syntax; use a correlation rule"
                .into(),
        );
    }
    let mut p = P {
        toks,
        pos: 0,
        names,
    };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected {:?} in condition", p.toks[p.pos]));
    }
    Ok(c)
}

struct P<'a> {
    toks: Vec<Tok>,
    pos: usize,
    names: &'a [String],
}

impl P<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn or(&mut self) -> Result<Cond, String> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap()
        } else {
            Cond::Or(parts)
        })
    }
    fn and(&mut self) -> Result<Cond, String> {
        let mut parts = vec![self.not()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap()
        } else {
            Cond::And(parts)
        })
    }
    fn not(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Tok::Not) {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.atom()
    }
    fn atom(&mut self) -> Result<Cond, String> {
        let Some(t) = self.toks.get(self.pos).cloned() else {
            return Err("condition ends too early".into());
        };
        self.pos += 1;
        match t {
            Tok::LParen => {
                let c = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err("missing ')' in condition".into());
                }
                self.pos += 1;
                Ok(c)
            }
            Tok::Of(q) => {
                let Some(Tok::Ident(pat)) = self.toks.get(self.pos).cloned() else {
                    return Err("'of' must be followed by 'them' or a selection pattern".into());
                };
                self.pos += 1;
                let ids: Vec<usize> = if pat == "them" {
                    (0..self.names.len())
                        .filter(|&i| !self.names[i].starts_with('_'))
                        .collect()
                } else {
                    (0..self.names.len())
                        .filter(|&i| wildcard_name(&pat, &self.names[i]))
                        .collect()
                };
                if ids.is_empty() {
                    return Err(format!("'{pat}' matches no selection"));
                }
                Ok(match q {
                    Quant::All => Cond::All(ids),
                    Quant::N(n) => Cond::AtLeast(n, ids),
                })
            }
            Tok::Ident(name) => {
                if name.contains('*') {
                    return Err(format!("wildcard '{name}' needs '1 of' or 'all of'"));
                }
                match self.names.iter().position(|n| *n == name) {
                    Some(i) => Ok(Cond::Sel(i)),
                    None => Err(format!(
                        "condition names '{name}', which is not a selection"
                    )),
                }
            }
            other => Err(format!("unexpected {other:?} in condition")),
        }
    }
}

/// Selection-name patterns: `*` matches any run of characters.
fn wildcard_name(pat: &str, name: &str) -> bool {
    crate::pattern::glob_match(
        &pat.split('*')
            .enumerate()
            .flat_map(|(i, part)| {
                let mut v = Vec::new();
                if i > 0 {
                    v.push(crate::pattern::Token::Star);
                }
                if !part.is_empty() {
                    v.push(crate::pattern::Token::Lit(part.to_string()));
                }
                v
            })
            .collect::<Vec<_>>(),
        name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    fn eval(c: &str, n: &[&str], truth: &[bool]) -> bool {
        let names = names(n);
        parse(c, &names).unwrap().eval(&mut |i| truth[i])
    }

    #[test]
    fn precedence_or_and_not() {
        let n = ["a", "b", "c"];
        // a or b and c == a or (b and c)
        assert!(eval("a or b and c", &n, &[true, false, false]));
        assert!(!eval("a and b or c", &n, &[true, false, false]));
        // not binds tighter than and
        assert!(eval("not a and b", &n, &[false, true, false]));
        assert!(!eval("not (a and b)", &n, &[true, true, false]));
        assert!(eval("NOT a AND b", &n, &[false, true, false]));
    }

    #[test]
    fn quantifiers_and_them() {
        let n = ["selection_1", "selection_2", "filter_a", "_hidden"];
        assert!(eval("1 of selection_*", &n, &[false, true, false, false]));
        assert!(!eval(
            "all of selection_*",
            &n,
            &[false, true, false, false]
        ));
        assert!(eval(
            "all of selection_* and not 1 of filter_*",
            &n,
            &[true, true, false, false]
        ));
        assert!(eval("2 of them", &n, &[true, false, true, false]));
        // `them` leaves out underscore names.
        assert!(!eval("1 of them", &n, &[false, false, false, true]));
        assert!(!eval("all of them", &n, &[true, false, true, true]));
        assert!(eval("all of them", &n, &[true, true, true, false]));
        assert!(eval("1 of *_2", &n, &[false, true, false, false]));
    }

    #[test]
    fn errors() {
        let n = names(&["a"]);
        assert!(parse("a and", &n).is_err());
        assert!(parse("b", &n).is_err());
        assert!(parse("(a", &n).is_err());
        assert!(parse("1 of x*", &n).is_err());
        assert!(parse("a | count() > 5", &n).is_err());
        assert!(parse("a*", &n).is_err());
    }
}
