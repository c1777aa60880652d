//! The service catalog (事项清单): regions, departments and items with their guides,
//! as read from a catalog file, and the validation that must pass before anything is imported.

use crate::ids::{RegionCode, Uscc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    #[serde(default, rename = "region")]
    pub regions: Vec<Region>,
    #[serde(default, rename = "department")]
    pub departments: Vec<Department>,
    #[serde(default, rename = "item")]
    pub items: Vec<ServiceItem>,
    #[serde(default, rename = "bundle", skip_serializing_if = "Vec::is_empty")]
    pub bundles: Vec<Bundle>,
}

/// 一件事一次办: several items applied for with one form, one set of materials and one
/// acceptance; each item runs its own workflow and the bundle is done when all are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub region: String,
    #[serde(default)]
    pub description: String,
    /// The items' codes, at least two.
    pub items: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// One item with every guide field (GB/T 39046 table 4, the subset a hall shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceItem {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_code: Option<String>,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub item_type: String,
    pub exercise_level: String,
    #[serde(default = "default_nature")]
    pub subject_nature: String,
    pub service_objects: Vec<String>,
    pub handling_forms: Vec<String>,
    pub case_type: String,
    pub department: String,
    pub region: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub category_en: String,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub conditions: String,
    pub legal_limit: u32,
    pub promised_limit: u32,
    /// 内控线 in working days; two thirds of the promised limit when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_limit: Option<u32>,
    /// Working days before the internal-control line at which a case turns yellow; 1 for items
    /// of 5 days or less and 3 otherwise when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yellow_days: Option<u32>,
    /// The stages after acceptance (办理流程); none: one decision by the item's department.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workflow: Vec<crate::workflow::Stage>,
    #[serde(default)]
    pub visits: u8,
    #[serde(default)]
    pub commitment: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment_text: Option<String>,
    /// Materials the signed commitment replaces (the letter itself, waived proofs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commitment_materials: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub special_procedures: Vec<String>,
    #[serde(default)]
    pub process: Vec<String>,
    #[serde(default)]
    pub result_name: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub hours: String,
    #[serde(default)]
    pub consultation_phone: String,
    #[serde(default)]
    pub complaint_phone: String,
    #[serde(default)]
    pub remedies: String,
    #[serde(default = "yes")]
    pub online: bool,
    #[serde(default)]
    pub materials: Vec<Material>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fees: Vec<Fee>,
    #[serde(default)]
    pub fields: Vec<FormField>,
}

fn default_nature() -> String {
    "1".into()
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub originals: u32,
    #[serde(default)]
    pub copies: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_note: Option<String>,
    #[serde(default)]
    pub shared_data: bool,
    #[serde(default)]
    pub deferrable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub name: String,
    pub amount_fen: i64,
    #[serde(default)]
    pub basis: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Select,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub label_en: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// GB/T 39046 appendix A code tables: (code, Chinese name).
pub mod codes {
    pub const ITEM_TYPE: &[(&str, &str)] = &[
        ("01", "行政许可"),
        ("02", "行政处罚"),
        ("03", "行政强制"),
        ("04", "行政征收"),
        ("05", "行政给付"),
        ("06", "行政检查"),
        ("07", "行政确认"),
        ("08", "行政奖励"),
        ("09", "行政裁决"),
        ("10", "其他行政权力"),
        ("20", "公共服务"),
    ];
    pub const EXERCISE_LEVEL: &[(&str, &str)] = &[
        ("1", "国家级"),
        ("2", "省级"),
        ("3", "市级"),
        ("4", "县级"),
        ("5", "镇（乡、街道）级"),
        ("6", "村（社区）级"),
        ("7", "分级管理"),
    ];
    pub const SUBJECT_NATURE: &[(&str, &str)] = &[
        ("1", "法定机关"),
        ("2", "授权组织"),
        ("3", "受委托组织"),
        ("9", "其他"),
    ];
    pub const SERVICE_OBJECT: &[(&str, &str)] = &[
        ("1", "自然人"),
        ("2", "企业法人"),
        ("3", "事业法人"),
        ("4", "社会组织法人"),
        ("5", "行政机关"),
        ("6", "其他组织"),
    ];
    pub const HANDLING_FORM: &[(&str, &str)] = &[
        ("1", "窗口办理"),
        ("2", "网上办理（电脑端）"),
        ("3", "网上办理（移动端）"),
        ("4", "快递申请"),
        ("9", "其他"),
    ];
    pub const CASE_TYPE: &[(&str, &str)] = &[("1", "即办件"), ("2", "承诺件"), ("9", "其他")];

    pub fn name(table: &[(&str, &'static str)], code: &str) -> &'static str {
        table
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, n)| *n)
            .unwrap_or("")
    }
    pub fn valid(table: &[(&str, &str)], code: &str) -> bool {
        table.iter().any(|(c, _)| *c == code)
    }
}

impl ServiceItem {
    /// 即办件: completed at the window on the spot.
    pub fn is_immediate(&self) -> bool {
        self.case_type == "1"
    }
    pub fn internal_limit(&self) -> u32 {
        self.internal_limit
            .unwrap_or_else(|| crate::deadline::default_internal_limit(self.promised_limit))
    }
    pub fn limits(&self) -> crate::deadline::Limits {
        let d = crate::deadline::Limits::for_promised(self.promised_limit);
        crate::deadline::Limits {
            internal: self.internal_limit(),
            legal: self.legal_limit,
            yellow_days: self.yellow_days.unwrap_or(d.yellow_days),
            ..d
        }
    }
    pub fn total_fee_fen(&self) -> i64 {
        self.fees.iter().map(|f| f.amount_fen).sum()
    }
    pub fn material(&self, code: &str) -> Option<&Material> {
        self.materials.iter().find(|m| m.code == code)
    }
    /// Must the applicant hand this material in? Not when shared data supplies it, nor when a
    /// signed commitment replaces it.
    pub fn must_submit(&self, m: &Material, commitment_signed: bool) -> bool {
        m.required
            && !m.shared_data
            && !(self.commitment
                && commitment_signed
                && self.commitment_materials.contains(&m.code))
    }
}

/// One problem found in a catalog file: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogError {
    /// The item, department or region code the problem is in.
    pub entry: String,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.entry, self.field, self.message)
    }
}

/// What the database already holds, so a file may refer to it.
#[derive(Debug, Default)]
pub struct Known {
    pub regions: HashSet<String>,
    pub departments: HashMap<String, String>,
    /// Item codes and their regions.
    pub items: HashMap<String, String>,
}

fn code_ok(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

/// Checks every rule and returns every problem, so one import run reports them all.
pub fn validate(file: &CatalogFile, known: &Known) -> Vec<CatalogError> {
    let mut errs = Vec::new();
    let mut err = |entry: &str, field: &str, message: String| {
        errs.push(CatalogError {
            entry: entry.to_string(),
            field: field.to_string(),
            message,
        })
    };
    let mut regions: HashSet<String> = known.regions.clone();
    let mut seen = HashSet::new();
    for r in &file.regions {
        if !seen.insert(r.code.clone()) {
            err(
                &r.code,
                "code",
                "duplicate region code / 区划代码重复".into(),
            );
        }
        if let Err(e) = RegionCode::parse(&r.code) {
            err(&r.code, "code", format!("{e} / {}", e.zh()));
        }
        if r.name.trim().is_empty() {
            err(&r.code, "name", "name is empty / 名称为空".into());
        }
        regions.insert(r.code.clone());
    }
    for r in &file.regions {
        if let Some(p) = &r.parent {
            if !regions.contains(p) {
                err(
                    &r.code,
                    "parent",
                    format!("unknown region {p} / 上级区划不存在"),
                );
            } else if let (Ok(pc), Ok(rc)) = (RegionCode::parse(p), RegionCode::parse(&r.code)) {
                if !pc.contains(&rc) || pc == rc {
                    err(
                        &r.code,
                        "parent",
                        format!("{p} does not contain this region / 上级区划不包含本区划"),
                    );
                }
            }
        }
    }
    let mut depts: HashMap<String, String> = known.departments.clone();
    let mut seen = HashSet::new();
    for d in &file.departments {
        if !seen.insert(d.code.clone()) {
            err(
                &d.code,
                "code",
                "duplicate department code / 部门代码重复".into(),
            );
        }
        if !code_ok(&d.code, 36) {
            err(
                &d.code,
                "code",
                "code must be 1-36 letters, digits or '-' / 代码格式错误".into(),
            );
        }
        if !regions.contains(&d.region) {
            err(
                &d.code,
                "region",
                format!("unknown region {} / 区划不存在", d.region),
            );
        }
        if let Some(u) = &d.uscc {
            if let Err(e) = Uscc::parse(u) {
                err(&d.code, "uscc", format!("{e} / 统一社会信用代码{}", e.zh()));
            }
        }
        depts.insert(d.code.clone(), d.region.clone());
    }
    let mut seen = HashSet::new();
    for it in &file.items {
        let c = it.code.as_str();
        if !seen.insert(c.to_string()) {
            err(c, "code", "duplicate item code / 事项编码重复".into());
        }
        if !code_ok(c, 36) {
            err(
                c,
                "code",
                "code must be 1-36 letters, digits or '-' / 实施编码格式错误".into(),
            );
        }
        if it.name.trim().is_empty() || it.name.chars().count() > 200 {
            err(
                c,
                "name",
                "name must be 1-200 characters / 事项名称应为1-200字".into(),
            );
        }
        for (field, table, v) in [
            ("item_type", codes::ITEM_TYPE, &it.item_type),
            ("exercise_level", codes::EXERCISE_LEVEL, &it.exercise_level),
            ("subject_nature", codes::SUBJECT_NATURE, &it.subject_nature),
            ("case_type", codes::CASE_TYPE, &it.case_type),
        ] {
            if !codes::valid(table, v) {
                err(
                    c,
                    field,
                    format!("'{v}' is not a GB/T 39046 code / 不是国标代码"),
                );
            }
        }
        for v in &it.service_objects {
            if !codes::valid(codes::SERVICE_OBJECT, v) {
                err(
                    c,
                    "service_objects",
                    format!("'{v}' is not a GB/T 39046 code / 不是国标代码"),
                );
            }
        }
        if it.service_objects.is_empty() {
            err(
                c,
                "service_objects",
                "at least one service object / 至少一个服务对象".into(),
            );
        }
        for v in &it.handling_forms {
            if !codes::valid(codes::HANDLING_FORM, v) {
                err(
                    c,
                    "handling_forms",
                    format!("'{v}' is not a GB/T 39046 code / 不是国标代码"),
                );
            }
        }
        match depts.get(&it.department) {
            None => err(
                c,
                "department",
                format!("unknown department {} / 实施部门不存在", it.department),
            ),
            Some(dr) => {
                if let (Ok(d), Ok(r)) = (RegionCode::parse(dr), RegionCode::parse(&it.region)) {
                    if !d.contains(&r) {
                        err(c, "region", format!("{} is outside the department's region {dr} / 实施区划不在部门区划内", it.region));
                    }
                }
            }
        }
        if !regions.contains(&it.region) {
            err(
                c,
                "region",
                format!("unknown region {} / 区划不存在", it.region),
            );
        }
        for (field, message) in crate::workflow::check(&it.workflow, &|d| depts.contains_key(d)) {
            err(c, &field, message);
        }
        if it.is_immediate() && !it.workflow.is_empty() {
            err(
                c,
                "workflow",
                "a 即办件 is completed at the window and has no workflow / 即办件当场办结，不设办理流程".into(),
            );
        }
        if it.promised_limit > it.legal_limit {
            err(
                c,
                "promised_limit",
                format!(
                    "promised limit {} is longer than the legal limit {} / 承诺时限超过法定时限",
                    it.promised_limit, it.legal_limit
                ),
            );
        }
        if it.yellow_days.is_some_and(|y| y > 60) {
            err(
                c,
                "yellow_days",
                "the yellow margin is more than 60 working days / 黄灯预警天数超过60个工作日"
                    .into(),
            );
        }
        if it.internal_limit.is_some_and(|i| i > it.promised_limit) {
            err(c, "internal_limit", "the internal-control limit is longer than the promised limit / 内控时限超过承诺时限".into());
        }
        if it.legal_limit == 0 && !it.is_immediate() {
            err(
                c,
                "legal_limit",
                "only 即办件 may have a legal limit of 0 / 承诺件法定时限不能为0".into(),
            );
        }
        if it.legal_limit > 365 {
            err(
                c,
                "legal_limit",
                "more than 365 working days / 超过365个工作日".into(),
            );
        }
        if it.visits > 2 {
            err(
                c,
                "visits",
                "visits must be 0, 1 or 2 / 到现场次数应为0、1或2".into(),
            );
        }
        if it.commitment
            && it
                .commitment_text
                .as_deref()
                .unwrap_or("")
                .trim()
                .is_empty()
        {
            err(
                c,
                "commitment_text",
                "a 告知承诺 item needs its commitment text / 缺少承诺书内容".into(),
            );
        }
        for code in &it.commitment_materials {
            if !it.materials.iter().any(|m| &m.code == code) {
                err(
                    c,
                    "commitment_materials",
                    format!(
                        "material {code} is referenced but not defined / 引用了未定义的材料 {code}"
                    ),
                );
            }
        }
        if !it.commitment && !it.commitment_materials.is_empty() {
            err(
                c,
                "commitment_materials",
                "only a 告知承诺 item can waive materials / 非告知承诺事项不能免提交材料".into(),
            );
        }
        let mut mcodes = HashSet::new();
        for m in &it.materials {
            if !mcodes.insert(m.code.as_str()) {
                err(
                    c,
                    &format!("materials.{}", m.code),
                    "duplicate material code / 材料编码重复".into(),
                );
            }
            if m.name.trim().is_empty() {
                err(
                    c,
                    &format!("materials.{}", m.code),
                    "material name is empty / 材料名称为空".into(),
                );
            }
        }
        for f in &it.fees {
            if f.amount_fen < 0 {
                err(
                    c,
                    "fees",
                    format!("fee '{}' is negative / 收费金额为负", f.name),
                );
            }
        }
        let mut keys = HashSet::new();
        for f in &it.fields {
            let k = f.key.as_str();
            let key_ok = k.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !key_ok {
                err(
                    c,
                    &format!("fields.{k}"),
                    "key must match [a-z][a-z0-9_]* / 字段名格式错误".into(),
                );
            }
            if !keys.insert(k) {
                err(
                    c,
                    &format!("fields.{k}"),
                    "duplicate field key / 字段重复".into(),
                );
            }
            if f.kind == FieldKind::Select && f.options.is_empty() {
                err(
                    c,
                    &format!("fields.{k}"),
                    "a select field needs options / 下拉字段缺少选项".into(),
                );
            }
        }
    }
    let mut items: HashMap<&str, &str> = known
        .items
        .iter()
        .map(|(c, r)| (c.as_str(), r.as_str()))
        .collect();
    for it in &file.items {
        items.insert(it.code.as_str(), it.region.as_str());
    }
    let mut bundle_codes = HashSet::new();
    for b in &file.bundles {
        let c = b.code.as_str();
        if !code_ok(c, 50) {
            err(
                c,
                "code",
                "a bundle code is letters, digits and '-' / 一件事编码格式不正确".into(),
            );
        }
        if !bundle_codes.insert(c) {
            err(c, "code", "duplicate bundle code / 一件事编码重复".into());
        }
        if b.name.trim().is_empty() {
            err(
                c,
                "name",
                "a bundle needs a name / 一件事名称不能为空".into(),
            );
        }
        if !regions.contains(&b.region) {
            err(
                c,
                "region",
                format!("unknown region {} / 区划不存在", b.region),
            );
        }
        if b.items.len() < 2 {
            err(
                c,
                "items",
                "a bundle joins at least two items / 一件事至少包含两个事项".into(),
            );
        }
        let mut seen = HashSet::new();
        for code in &b.items {
            if !seen.insert(code.as_str()) {
                err(c, "items", format!("{code} listed twice / 事项重复"));
            }
            match items.get(code.as_str()) {
                None => err(c, "items", format!("unknown item {code} / 事项不存在")),
                Some(r) => {
                    if let (Ok(br), Ok(ir)) = (RegionCode::parse(&b.region), RegionCode::parse(r)) {
                        if !br.contains(&ir) {
                            err(c, "items", format!("{code} is outside the bundle's region / 事项不在一件事的区划内"));
                        }
                    }
                }
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CatalogFile {
        toml::from_str(
            r#"
[[region]]
code = "360822"
name = "吉水县"
[[department]]
code = "360822-ZJJ"
name = "住建局"
region = "360822"
[[item]]
code = "X1"
name = "建设工程规划许可证核发"
item_type = "01"
exercise_level = "4"
service_objects = ["2"]
handling_forms = ["1","2"]
case_type = "2"
department = "360822-ZJJ"
region = "360822"
legal_limit = 20
promised_limit = 8
[[item.materials]]
code = "M01"
name = "申请表"
required = true
[[item.fields]]
key = "project_name"
label = "项目名称"
kind = "text"
required = true
"#,
        )
        .unwrap()
    }

    #[test]
    fn a_good_file_has_no_errors() {
        assert!(validate(&sample(), &Known::default()).is_empty());
    }

    #[test]
    fn errors_name_entry_and_field() {
        let mut f = sample();
        f.items[0].promised_limit = 30;
        f.items[0].department = "NOPE".into();
        f.items.push(f.items[0].clone());
        let errs = validate(&f, &Known::default());
        let fields: Vec<_> = errs
            .iter()
            .map(|e| (e.entry.as_str(), e.field.as_str()))
            .collect();
        assert!(fields.contains(&("X1", "promised_limit")));
        assert!(fields.contains(&("X1", "department")));
        assert!(fields.contains(&("X1", "code")), "{errs:?}");
    }

    #[test]
    fn an_item_sets_its_own_limits_and_yellow_margin() {
        let mut f = sample();
        let it = &mut f.items[0];
        it.legal_limit = 20;
        it.promised_limit = 10;
        let d = it.limits();
        assert_eq!(
            (d.internal, d.yellow_days),
            (6, 3),
            "defaults: 2/3 and 3 days"
        );
        it.internal_limit = Some(8);
        it.yellow_days = Some(2);
        let l = it.limits();
        assert_eq!(
            (l.internal, l.promised, l.legal, l.yellow_days),
            (8, 10, 20, 2)
        );
        it.yellow_days = Some(61);
        let errs = validate(&f, &Known::default());
        assert_eq!(
            errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["yellow_days"]
        );
    }

    #[test]
    fn a_workflow_is_checked_with_the_catalog() {
        let mut f = sample();
        f.items[0].case_type = "2".into();
        f.items[0].workflow = toml::from_str::<toml::Table>(
            r#"
            [[s]]
            kind = "parallel"
            departments = [{ department = "360822-ZJJ", limit = 3 }, { department = "360822-XX", limit = 3 }]
            silence_consents = true
            [[s]]
            kind = "issue"
            "#,
        )
        .unwrap()["s"]
            .clone()
            .try_into()
            .unwrap();
        let errs = validate(&f, &Known::default());
        let fields: Vec<_> = errs
            .iter()
            .map(|e| (e.entry.as_str(), e.field.as_str()))
            .collect();
        assert!(
            fields.contains(&("X1", "workflow[0].departments")),
            "{errs:?}"
        );
        assert!(
            fields.contains(&("X1", "workflow[0].kind")),
            "no decision: {errs:?}"
        );
        assert!(
            fields.contains(&("X1", "workflow[1].kind")),
            "issue before decision: {errs:?}"
        );
    }

    #[test]
    fn a_material_referenced_but_not_defined_is_named() {
        let mut f = sample();
        f.items[0].commitment = true;
        f.items[0].commitment_text = Some("承诺".into());
        f.items[0].commitment_materials = vec!["M01".into(), "M09".into()];
        let errs = validate(&f, &Known::default());
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(
            (errs[0].entry.as_str(), errs[0].field.as_str()),
            ("X1", "commitment_materials")
        );
        assert!(errs[0].message.contains("M09"));
    }

    #[test]
    fn known_departments_resolve() {
        let mut f = sample();
        f.departments.clear();
        f.regions.clear();
        let mut known = Known::default();
        known.regions.insert("360822".into());
        known
            .departments
            .insert("360822-ZJJ".into(), "360822".into());
        assert!(validate(&f, &known).is_empty());
    }
}
