//! What the case commands take and the case reads give.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use yichuang_core::deadline::{Conclusion, Deadlines, Light};
use yichuang_core::CaseStatus;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmissionView {
    pub id: i64,
    pub material_code: String,
    pub file_hash: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaterialCheck {
    pub material_code: String,
    pub verdict: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorrectionNoticeView {
    pub id: i64,
    pub issued_at: i64,
    pub problems: Vec<MaterialCheck>,
    pub note: String,
    pub resolved_at: Option<i64>,
}

/// A stored file to attach to a case as one material.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub material_code: String,
    pub hash: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub id: i64,
    pub number: Option<String>,
    pub item_code: String,
    pub item_name: String,
    pub item_name_en: String,
    pub case_type: String,
    pub applicant_id: i64,
    pub applicant_name: String,
    pub applicant_id_masked: String,
    pub status: CaseStatus,
    pub status_zh: &'static str,
    pub status_en: &'static str,
    pub region: String,
    pub department: String,
    pub channel: String,
    pub form: BTreeMap<String, String>,
    pub commitment_signed: bool,
    /// Shown only to the applicant and staff: it opens the public status page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub reject_reason: Option<String>,
    pub submissions: Vec<SubmissionView>,
    pub checks: Vec<MaterialCheck>,
    pub corrections: Vec<CorrectionNoticeView>,
    /// Fixed at acceptance: day 0 and the three lines, local dates.
    pub deadlines: Option<Deadlines>,
    /// Today's light (or the light at completion, once completed).
    pub light: Option<Light>,
    pub light_zh: Option<&'static str>,
    /// 办结: working days used and each limit kept, once concluded.
    pub conclusion: Option<Conclusion>,
    /// The decision's reasons (required for a denial).
    pub decision_reason: Option<String>,
    /// The bundle application (一件事) this case is a part of.
    pub bundle_app: Option<i64>,
    pub version: i64,
}

/// The public status of a case: no names, no materials.
#[derive(Debug, Clone, Serialize)]
pub struct CaseStatusView {
    pub number: String,
    pub item_name: String,
    pub item_name_en: String,
    pub status: CaseStatus,
    pub status_zh: &'static str,
    pub status_en: &'static str,
    pub submitted_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub completed_at: Option<i64>,
    /// The promised completion date, once accepted.
    pub promised_due: Option<String>,
    #[serde(skip)]
    pub secret: String,
    #[serde(skip)]
    pub applicant_id_number: String,
}

impl CaseStatusView {
    /// The receipt's code, or the last six characters of the applicant's ID number.
    pub fn unlocks(&self, code: &str) -> bool {
        let code = code.trim().to_ascii_uppercase();
        (!code.is_empty() && code == self.secret)
            || (code.len() == 6
                && self.applicant_id_number.len() >= 6
                && self.applicant_id_number.ends_with(&code))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub id: i64,
    pub number: Option<String>,
    pub item_code: String,
    pub item_name: String,
    pub applicant_name: String,
    pub status: CaseStatus,
    pub status_zh: &'static str,
    pub channel: String,
    pub submitted_at: Option<i64>,
    pub updated_at: i64,
}

/// What a clerk decides at the window.
#[derive(Debug, Clone)]
pub enum WindowDecision {
    Accept,
    Reject { reason: String },
    Corrections { note: String },
    CompleteOnSpot,
}
