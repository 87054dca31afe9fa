//! Triage: how alike two records are, when one is likely a duplicate of the other, and
//! which category and department past records point to. The numbers come from the
//! database (`db::triage`); the weighing is here, where it can be read and tested.
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// What the database found about a candidate.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// Weighted share of the new record's distinctive word pairs the candidate also
    /// has (rare pairs weigh more), 0–1.
    pub text: f64,
    /// How many of those pairs it shares.
    pub shared_terms: i64,
    /// The same phone or e-mail (compared by keyed hash).
    pub same_sender: bool,
    pub same_category: bool,
    /// Metres between their points, when both have one.
    pub distance_m: Option<f64>,
    /// Days between their receipt.
    pub days_apart: i64,
}

/// Why a record was called a likely duplicate: codes and numbers, never the text or the
/// sender of either record.
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq)]
pub struct Reason {
    /// `similar_text` (with `value`: the text score, 0–1, and `terms`: the distinctive
    /// word pairs shared), `same_sender`, `same_category`, `near` (`value`: metres),
    /// `days_apart` (`value`: days).
    #[schema(example = "similar_text")]
    pub code: &'static str,
    pub value: Option<f64>,
    pub terms: Option<i64>,
}

impl Reason {
    fn new(code: &'static str) -> Self {
        Self { code, value: None, terms: None }
    }
    fn valued(code: &'static str, value: f64) -> Self {
        Self { code, value: Some(value), terms: None }
    }
}

/// How likely two records are about one matter, 0–1, and why.
///
/// The text decides: a second record of the same sender about something else stays
/// apart (the sender adds only in proportion to the text, in full from a text score of
/// 0.25); the same category and a point within `radius_m` add a little (the weights were
/// chosen on the fixture's planted duplicates and traps — neighbours on one street are
/// often about different things: bench/README.md).
pub fn duplicate_score(s: &Signals, radius_m: f64) -> (f64, Vec<Reason>) {
    let mut score = s.text;
    let mut reasons = vec![Reason {
        code: "similar_text",
        value: Some((s.text * 100.0).round() / 100.0),
        terms: Some(s.shared_terms),
    }];
    if s.same_sender {
        score += 0.3 * (s.text / 0.25).min(1.0);
        reasons.push(Reason::new("same_sender"));
    }
    if s.same_category {
        score += 0.05;
        reasons.push(Reason::new("same_category"));
    }
    if let Some(d) = s.distance_m.filter(|d| *d <= radius_m) {
        score += 0.05 * (1.0 - d / radius_m.max(1.0));
        reasons.push(Reason::valued("near", d.round()));
    }
    reasons.push(Reason::valued("days_apart", s.days_apart as f64));
    (((score.min(1.0)) * 1000.0).round() / 1000.0, reasons)
}

/// At least this likely, a record is offered as a possible duplicate (chosen on the
/// fixture's planted duplicates with `bench/triage`: bench/README.md).
pub const DUPLICATE_THRESHOLD: f64 = 0.2;

/// A past record alike to the new one, with what it was filed under.
#[derive(Debug, Clone)]
pub struct Neighbour {
    pub id: Uuid,
    pub code: String,
    pub text: f64,
    pub category_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
}

/// A past record a suggestion rests on.
#[derive(Serialize, serde::Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct Basis {
    pub feedback_id: Uuid,
    #[schema(example = "PAKN-2021-000123")]
    pub code: String,
    /// How alike its text is to the record's, 0–1.
    pub similarity: f64,
}

/// A category or department suggested, with its score and the past records behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggested {
    pub id: Uuid,
    /// Its share of the neighbours' similarity, 0–1.
    pub score: f64,
    pub basis: Vec<Basis>,
}

/// The top three categories (or departments, by `key`) among the nearest past records:
/// each neighbour votes for what it was filed under with its similarity; a choice's score
/// is its share of all the votes. Each comes with up to three of the neighbours behind it.
pub fn vote(neighbours: &[Neighbour], key: impl Fn(&Neighbour) -> Option<Uuid>) -> Vec<Suggested> {
    let total: f64 = neighbours.iter().filter(|n| key(n).is_some()).map(|n| n.text).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    let mut tally: Vec<Suggested> = Vec::new();
    for n in neighbours {
        let Some(id) = key(n) else { continue };
        let basis = Basis { feedback_id: n.id, code: n.code.clone(), similarity: (n.text * 1000.0).round() / 1000.0 };
        match tally.iter_mut().find(|s| s.id == id) {
            Some(s) => {
                s.score += n.text;
                s.basis.push(basis);
            }
            None => tally.push(Suggested { id, score: n.text, basis: vec![basis] }),
        }
    }
    for s in &mut tally {
        s.score = ((s.score / total) * 1000.0).round() / 1000.0;
        s.basis.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        s.basis.truncate(3);
    }
    tally.sort_by(|a, b| b.score.total_cmp(&a.score));
    tally.truncate(3);
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_alone_does_not_make_a_duplicate() {
        let other_matter = Signals { text: 0.05, same_sender: true, days_apart: 2, ..Default::default() };
        let (score, reasons) = duplicate_score(&other_matter, 300.0);
        assert!(score < DUPLICATE_THRESHOLD, "{score}");
        assert!(reasons.iter().any(|r| r.code == "same_sender"));
        let reworded = Signals { text: 0.3, same_sender: true, days_apart: 5, ..Default::default() };
        assert!(duplicate_score(&reworded, 300.0).0 >= 0.6);
        let stranger = Signals { text: 0.3, ..Default::default() };
        assert!(duplicate_score(&stranger, 300.0).0 >= DUPLICATE_THRESHOLD);
    }

    #[test]
    fn a_point_nearby_adds_less_the_farther_it_is() {
        let at = |d| Signals { text: 0.2, distance_m: Some(d), ..Default::default() };
        let (near, reasons) = duplicate_score(&at(30.0), 300.0);
        let (far, _) = duplicate_score(&at(290.0), 300.0);
        let (beyond, _) = duplicate_score(&at(900.0), 300.0);
        assert!(near > far && far > beyond && beyond == 0.2, "{near} {far} {beyond}");
        assert!(reasons.contains(&Reason::valued("near", 30.0)));
    }

    #[test]
    fn votes_are_shares_of_similarity_with_their_records() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let n = |code: &str, text: f64, c: Uuid| Neighbour {
            id: Uuid::now_v7(),
            code: code.to_owned(),
            text,
            category_id: Some(c),
            department_id: None,
        };
        let neighbours = [n("P1", 0.6, a), n("P2", 0.2, b), n("P3", 0.2, a)];
        let top = vote(&neighbours, |n| n.category_id);
        assert_eq!(top.len(), 2);
        assert_eq!((top[0].id, top[0].score), (a, 0.8));
        assert_eq!(top[0].basis.iter().map(|b| b.code.as_str()).collect::<Vec<_>>(), ["P1", "P3"]);
        assert_eq!((top[1].id, top[1].score), (b, 0.2));
        assert!(vote(&neighbours, |n| n.department_id).is_empty());
    }
}
