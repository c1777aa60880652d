//! The statements that write the `cases` row. Only the cases module writes it; every other
//! module calls a function of `cases::write` or `cases::conclude`. Each text is one statement
//! exactly as the SQLite writer prepares it (its statements are tuned one by one): never
//! pasted together at run time.

/// A status change, guarded by the version the command read.
pub(crate) const SET_STATUS: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4";

/// A status change that completes the case (a decision without a workflow).
pub(crate) const SET_STATUS_COMPLETED: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, completed_at = $2 WHERE id = $3 AND version = $4";

/// A draft's form and commitment, guarded by the version.
pub(crate) const SAVE_DRAFT: &str =
    "UPDATE cases SET form = $1, commitment_signed = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5";

/// Submission: the status, the number ($5) and when.
pub(crate) const SUBMIT: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, number = $5, submitted_at = $2 WHERE id = $3 AND version = $4";

/// Resubmission after a correction notice: the status and the number ($5).
pub(crate) const RESUBMIT: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, number = $5 WHERE id = $3 AND version = $4";

/// Acceptance without a calendar to fix deadlines by.
pub(crate) const ACCEPT: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, accepted_at = $2, handled_by = $5 WHERE id = $3 AND version = $4";

/// Acceptance with its deadlines ($7–$11).
pub(crate) const ACCEPT_DATED: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, accepted_at = $2, handled_by = $5, accepted_on = $7, internal_due = $8, promised_due = $9, legal_due = $10, yellow_from = $11, next_alert_on = $11, alerted = 0 WHERE id = $3 AND version = $4";

/// Acceptance with its deadlines and its workflow's first stage ($12–$14).
pub(crate) const ACCEPT_DATED_FLOW: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, accepted_at = $2, handled_by = $5, accepted_on = $7, internal_due = $8, promised_due = $9, legal_due = $10, yellow_from = $11, next_alert_on = $11, alerted = 0, flow_stage = $12, flow_result = $13, workflow_id = $14 WHERE id = $3 AND version = $4";

/// Rejection (不予受理) with its reason ($6).
pub(crate) const REJECT: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, reject_reason = $6, handled_by = $5 WHERE id = $3 AND version = $4";

/// A correction notice sends the case back to the applicant.
pub(crate) const CORRECTIONS: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, handled_by = $5 WHERE id = $3 AND version = $4";

/// Completion on the spot of an accepted case, without a calendar.
pub(crate) const COMPLETE_ON_SPOT: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, completed_at = $2, handled_by = $5 WHERE id = $3 AND version = $4";

/// Completion on the spot of an accepted case, with its deadlines.
pub(crate) const COMPLETE_ON_SPOT_DATED: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, completed_at = $2, handled_by = $5, accepted_on = $7, internal_due = $8, promised_due = $9, legal_due = $10, yellow_from = $11, next_alert_on = $11, alerted = 0 WHERE id = $3 AND version = $4";

/// Acceptance and completion on the spot at once (即办件), without a calendar.
pub(crate) const ACCEPT_COMPLETE_ON_SPOT: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, completed_at = $2, handled_by = $5, accepted_at = $2 WHERE id = $3 AND version = $4";

/// Acceptance and completion on the spot at once (即办件), with its deadlines.
pub(crate) const ACCEPT_COMPLETE_ON_SPOT_DATED: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, completed_at = $2, handled_by = $5, accepted_at = $2, accepted_on = $7, internal_due = $8, promised_due = $9, legal_due = $10, yellow_from = $11, next_alert_on = $11, alerted = 0 WHERE id = $3 AND version = $4";

/// The conclusion ($1–$6: `conclusion_args`) of a case concluded otherwise.
pub(crate) const RECORD_CONCLUSION: &str =
    "UPDATE cases SET concluded_on = $1, days_used = $2, within_internal = $3, within_promised = $4, within_legal = $5, decided_by = $6, next_alert_on = NULL WHERE id = $7";

/// A decision's reasons.
pub(crate) const SET_DECISION_REASON: &str = "UPDATE cases SET decision_reason = $1 WHERE id = $2";

/// 办结 through the workflow, with the conclusion ($1–$6) and the flow's end, in one statement.
pub(crate) const CONCLUDE_FLOW_DATED: &str =
    "UPDATE cases SET status = $7, version = version + 1, updated_at = $8, completed_at = $8, decision_reason = $9, concluded_on = $1, days_used = $2, within_internal = $3, within_promised = $4, within_legal = $5, decided_by = $6, next_alert_on = NULL, flow_stage = $11, flow_result = $12 WHERE id = $10";

/// 办结 through the workflow of a case without deadlines, with the flow's end.
pub(crate) const CONCLUDE_FLOW: &str =
    "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, completed_at = $2, decision_reason = $3, flow_stage = $5, flow_result = $6 WHERE id = $4";

/// The workflow's stage and result; the case's version moves with its stage.
pub(crate) const SET_FLOW: &str =
    "UPDATE cases SET flow_stage = $1, flow_result = $2, version = version + 1 WHERE id = $3";

/// A special procedure ended: the days stopped and the deadlines moved by them.
pub(crate) const SHIFT_DEADLINES: &str =
    "UPDATE cases SET stopped_days = $1, internal_due = $2, promised_due = $3, legal_due = $4, yellow_from = $5, next_alert_on = $6 WHERE id = $7";

/// Deadlines fixed anew from an acceptance day (the demo moves it into the past).
pub(crate) const SET_DEADLINES: &str =
    "UPDATE cases SET accepted_on = $1, internal_due = $2, promised_due = $3, legal_due = $4, yellow_from = $5, next_alert_on = $5, alerted = 0 WHERE id = $6";

/// Nothing is due for supervision until a command sets a new date.
pub(crate) const CLEAR_NEXT_ALERT: &str = "UPDATE cases SET next_alert_on = NULL WHERE id = $1";

/// The day the next supervision line is due.
pub(crate) const SET_NEXT_ALERT: &str = "UPDATE cases SET next_alert_on = $1 WHERE id = $2";

/// The claim of a supervision line: only one transaction moves `alerted` past the old value ($4).
pub(crate) const CLAIM_ALERT: &str =
    "UPDATE cases SET alerted = $1, next_alert_on = $2 WHERE id = $3 AND alerted = $4";

/// A part case joins its bundle application.
pub(crate) const SET_BUNDLE_APP: &str = "UPDATE cases SET bundle_app = $1 WHERE id = $2";

/// A bundle part's share of the bundle's form.
pub(crate) const SET_BUNDLE_FORM: &str =
    "UPDATE cases SET form = $1, updated_at = $2 WHERE id = $3";

/// The benchmark's steady state: every open case's alert line as if the worker had already
/// sent what is due on `$1` (today).
pub(crate) const SETTLE_ALERTED: &str = "UPDATE cases SET alerted = CASE WHEN promised_due < $1 OR legal_due < $1 THEN 3 \
     WHEN internal_due < $1 THEN 2 WHEN yellow_from <= $1 THEN 1 ELSE 0 END WHERE status IN ('accepted', 'in_stage')";

/// ... and the day each open case's next alert is due, on SQLite.
pub(crate) const SETTLE_NEXT_ALERT_SQLITE: &str = "UPDATE cases SET next_alert_on = CASE alerted WHEN 0 THEN yellow_from \
     WHEN 1 THEN date(internal_due, '+1 day') WHEN 2 THEN date(promised_due, '+1 day') ELSE NULL END \
     WHERE status IN ('accepted', 'in_stage')";

/// ... and on PostgreSQL.
pub(crate) const SETTLE_NEXT_ALERT_POSTGRES: &str =
    "UPDATE cases SET next_alert_on = CASE alerted WHEN 0 THEN yellow_from \
     WHEN 1 THEN to_char(CAST(internal_due AS DATE) + 1, 'YYYY-MM-DD') \
     WHEN 2 THEN to_char(CAST(promised_due AS DATE) + 1, 'YYYY-MM-DD') ELSE NULL END \
     WHERE status IN ('accepted', 'in_stage')";
