//! What the preliminary check returns: a verdict, the issues behind it and the raw measures.

use serde::{Deserialize, Serialize};

use crate::face::geometry::FaceGeometry;
use crate::thresholds::Rule;

/// Outcome of the preliminary check (初审): the domain's, since the photo row stores it.
pub use campus_photo_domain::records::Verdict;

/// An error fails the photo; a warning is shown but lets it through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, with the catalogue's code and Chinese message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub code: &'static str,
    pub severity: Severity,
    pub message: &'static str,
}

impl Issue {
    /// The message always comes from the shared catalogue (`campus_photo_domain::reasons`).
    pub fn new(code: &'static str, severity: Severity) -> Issue {
        Issue {
            code,
            severity,
            message: campus_photo_domain::reasons::message(code),
        }
    }
}

/// A raw measure and the error thresholds it was judged against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    pub name: &'static str,
    pub value: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// The full result of `check`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub verdict: Verdict,
    pub issues: Vec<Issue>,
    pub measures: Vec<Measure>,
    /// Where the face is, for the render; `None` when no face was found.
    pub face: Option<FaceGeometry>,
}

impl CheckReport {
    /// Codes of the error issues.
    pub fn error_codes(&self) -> Vec<&'static str> {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.code)
            .collect()
    }

    /// `None` when the photo passed; otherwise whether a reviewer could overrule it (`Soft`:
    /// every error is a measured judgement) or not (`Hard`: an objective fault such as no face).
    pub fn failure_kind(&self) -> Option<campus_photo_domain::reasons::IssueKind> {
        use campus_photo_domain::reasons::{IssueKind, issue_kind};
        if self.verdict == Verdict::Passed {
            return None;
        }
        let hard = self
            .error_codes()
            .iter()
            .any(|c| issue_kind(c) == IssueKind::Hard);
        Some(if hard {
            IssueKind::Hard
        } else {
            IssueKind::Soft
        })
    }

    /// The measure called `name`, if it was taken.
    pub fn measure(&self, name: &str) -> Option<f64> {
        self.measures
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }
}

/// Collects measures and issues while the check runs.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    issues: Vec<Issue>,
    measures: Vec<Measure>,
}

impl Collector {
    /// Records `value` under `name` and raises the rule's issue if it is out of bounds.
    pub fn judge(&mut self, name: &'static str, value: f64, rule: &Rule) {
        self.measures.push(Measure {
            name,
            value,
            min: rule.min,
            max: rule.max,
        });
        if let Some(severity) = rule.judge(value) {
            self.raise(rule.code, severity);
        }
    }

    /// Records a measure that has no threshold of its own (context for reviewers).
    pub fn note(&mut self, name: &'static str, value: f64) {
        self.measures.push(Measure {
            name,
            value,
            min: None,
            max: None,
        });
    }

    /// Adds an issue; an error replaces a warning of the same code, duplicates are dropped.
    pub fn raise(&mut self, code: &'static str, severity: Severity) {
        if let Some(existing) = self.issues.iter_mut().find(|i| i.code == code) {
            if severity == Severity::Error {
                existing.severity = Severity::Error;
            }
            return;
        }
        self.issues.push(Issue::new(code, severity));
    }

    pub fn finish(mut self, face: Option<FaceGeometry>) -> CheckReport {
        // Errors first, in catalogue order, so the student reads the most important first.
        let rank = |code: &str| {
            campus_photo_domain::reasons::CATALOGUE
                .iter()
                .position(|r| r.code == code)
                .unwrap_or(usize::MAX)
        };
        self.issues
            .sort_by_key(|i| (i.severity == Severity::Warning, rank(i.code)));
        let verdict = if self.issues.iter().any(|i| i.severity == Severity::Error) {
            Verdict::Failed
        } else {
            Verdict::Passed
        };
        CheckReport {
            verdict,
            issues: self.issues,
            measures: self.measures,
            face,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_fails_only_on_errors_and_errors_win() {
        let mut c = Collector::default();
        c.raise("POSE_ROLL", Severity::Warning);
        assert_eq!(Collector::default().finish(None).verdict, Verdict::Passed);
        c.raise("LIGHT_UNDER", Severity::Warning);
        c.raise("POSE_ROLL", Severity::Error);
        let report = c.finish(None);
        assert_eq!(report.verdict, Verdict::Failed);
        assert_eq!(report.issues.len(), 2);
        assert_eq!(report.issues[0].code, "POSE_ROLL");
        assert_eq!(
            report.issues[0].message,
            campus_photo_domain::reasons::message("POSE_ROLL")
        );
    }
}
