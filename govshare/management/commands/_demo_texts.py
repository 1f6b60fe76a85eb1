"""The demo world's human-readable texts, one table per language (``seed_demo --lang``).

seed_demo builds one world; only these texts change with the language. Everything else is the
world's structure and the same in every language: department codes, usernames, identifiers,
data-item names (CSV headers and API keys), states, methods, limits, dates and codes. Every table
has the same keys (tests/test_demo_zh.py checks), so the languages cannot drift apart.

The English table is the demo as it always was. The Chinese one uses the terms of
docs/glossary-zh.md; its laws are real Chinese laws and regulations. These are data, not msgids:
the portal's own strings come from the locale catalog.
"""

from typing import Any

# --- English -------------------------------------------------------------------------------

EN: dict[str, Any] = {
    # The demo users' Profile.language ("" leaves it alone: the browser's Accept-Language).
    "profile_language": "",
    "departments": {
        "OFFICE": "Data Management Office",
        "HEALTH": "Health Bureau",
        "CIVIL": "Civil Affairs Bureau",
        "POLICE": "Public Security Bureau",
    },
    # (first name, last name), set when the user is created.
    "users": {
        "office": ("", ""),
        "auditor": ("", ""),
        "health_steward": ("", ""),
        "civil_clerk": ("", ""),
        "police_clerk": ("", ""),
        "admin": ("", ""),
    },
    "resources": {
        "HEALTH-VACC-001": {
            "title": "Vaccination records",
            "abstract": "Every vaccine dose given in the city's clinics, one row per dose, "
            "for checking vaccination status and planning campaigns.",
            "classification": "Health / Immunisation",
            "sharing_conditions": "Only for statutory duties that need vaccination status; "
            "personal items only with a legal basis naming them.",
            "legal_basis": "Vaccine Administration Law, art. 36 (immunisation records).",
            "items": {
                "resident_id": "Resident identity number (pseudonymised)",
                "birth_date": "Date of birth",
                "vaccine_code": "National vaccine product code",
                "dose_number": "Dose in the schedule (1, 2, ...)",
                "vaccination_date": "Date the dose was given",
                "clinic_code": "Registered clinic that gave the dose",
                "lot_fee": "Fee charged for the lot, if any",
                "adverse_event": "An adverse event was reported",
            },
        },
        "HEALTH-CLINIC-001": {
            "title": "Licensed clinics",
            "abstract": "Registered clinics with their licence period.",
            "classification": "Health / Facilities",
            "legal_basis": "Medical Institutions Regulation, art. 15 (registration).",
            "items": {
                "clinic_code": "Registered clinic code",
                "clinic_name": "Registered name",
                "district": "District",
                "licensed_until": "End of the current licence",
            },
        },
        "HEALTH-PSY-001": {
            "title": "Psychiatric case notes",
            "abstract": "Clinical notes of psychiatric treatment.",
            "classification": "Health / Clinical",
            "not_shareable_reason": "Clinical notes are confidential medical records.",
            "not_shareable_law": "Mental Health Law, art. 4 (confidentiality of patient records).",
            "legal_basis": "Mental Health Law, art. 47 (case records).",
            "items": {"case_id": "Case number"},
        },
    },
    # Prose cells of the clinics CSV: clinic n (1..40) is clinic_names[n - 1], in
    # districts[n % 6].
    "clinic_names": [f"Community Clinic {n}" for n in range(1, 41)],
    "districts": [f"District {n}" for n in range(1, 7)],
    # The legal basis of the demo's requests.
    "request_basis": {
        "legal_basis_citation": "Education Law",
        "legal_basis_article": "art. 12",
        "legal_basis_text": "Schools verify immunisation records before enrolment.",
    },
    # Why a request names each item: "<resource>.<item>" (the ended clinic check has its own).
    "item_reasons": {
        "vaccination.resident_id": "To match the pupil to the record.",
        "vaccination.vaccine_code": "To check which vaccines were given.",
        "vaccination.dose_number": "To check the schedule is complete.",
        "vaccination.birth_date": "To confirm identity.",
        "clinics.clinic_code": "To link records to clinics.",
        "clinics.clinic_name": "To show names.",
        "licence_check.clinic_code": "To check the clinic's licence.",
    },
    "purposes": {
        "default": "Verify vaccination status at school entry.",
        "draft": "Draft: dose completeness.",
        "detainee_screening": "Check vaccination of detainees for the health screening.",
        "clinic_register": "Keep the list of licensed clinics in the school health register.",
        "statistics": "Statistics.",
        "research": "General research.",
        "daily_copy": "Daily copy of doses for the school health register.",
        "result_only": "Confirm a detainee's vaccination without seeing the record.",
        "licence_check": "One-off check of clinic licences for the 2026 school year.",
    },
    "reasons": {
        "endorse": "Lawful purpose; items are necessary.",
        "approve_partly": "Approved without birth dates: the resident id suffices.",
        "return": "State which statistics, and why they need personal items.",
        "reject": "Research is not a statutory duty of the Civil Affairs Bureau.",
        "approve": "Approved.",
        "revoke": "The licence check is done: the purpose is fulfilled.",
    },
    "quality_report": {
        "description": "Second courses restart at dose 1; the schedule check expects 3.",
        "acknowledge": "Checking with the clinics.",
    },
    "demand": {
        "title": "Births recorded in hospitals",
        "description": "Births recorded by the city's hospitals, to register newborns "
        "without asking parents for the hospital certificate.",
        "purpose": "Register births on the hospital's record.",
        "legal_basis": "Civil Registration Regulation, art. 9 (birth registration).",
        "items": ["mother resident_id", "birth date", "hospital code"],
        "join_purpose": "Issue identity numbers to newborns.",
        "route_reason": "Hospitals report births to the health bureau.",
    },
    "dispute": {
        "disputed": "The real-time interface stops answering after 2,000 calls a day; during "
        "school enrolment week our clerks need about 3,500.",
        "asked": "Raise the daily call limit to 4,000 for the first two weeks of September.",
        "statement": "The limit protects the clinics' system; we can deliver a one-off copy "
        "instead.",
        "escalate": "A copy would hold more personal data than needed.",
    },
}

# --- 简体中文 -------------------------------------------------------------------------------


def _chinese_number(n: int) -> str:
    """1..99 in Chinese numerals: 一, 十, 十一, 二十, 四十."""
    digits = "〇一二三四五六七八九"
    tens, ones = divmod(n, 10)
    if not tens:
        return digits[ones]
    return f"{'' if tens == 1 else digits[tens]}十{digits[ones] if ones else ''}"


_ZH_DISTRICTS = ["东城区", "西城区", "南湖区", "北山区", "新华区", "高新区"]
_ZH_HOSPITALS = ["市第一人民医院", "市第二人民医院", "市中医医院", "市妇幼保健院"]

ZH_HANS: dict[str, Any] = {
    "profile_language": "zh-hans",
    "departments": {
        "OFFICE": "大数据管理局",
        "HEALTH": "卫生健康委员会",
        "CIVIL": "民政局",
        "POLICE": "公安局",
    },
    "users": {
        "office": ("建国", "王"),
        "auditor": ("静", "陈"),
        "health_steward": ("丽华", "张"),
        "civil_clerk": ("明", "李"),
        "police_clerk": ("强", "赵"),
        "admin": ("洋", "刘"),
    },
    "resources": {
        "HEALTH-VACC-001": {
            "title": "新生儿疫苗接种记录",
            "abstract": "本市各接种单位实施的每一剂次疫苗接种，每剂次一行，"
            "用于核验预防接种情况和安排接种工作。",
            "classification": "卫生健康 / 预防接种",
            "sharing_conditions": "仅用于需要核验预防接种情况的法定职责；"
            "个人信息数据项须有列明该数据项的法律依据（最小必要原则）。",
            "legal_basis": "《中华人民共和国疫苗管理法》第四十六条（预防接种记录）。",
            "items": {
                "resident_id": "居民身份号码（已假名化）",
                "birth_date": "出生日期",
                "vaccine_code": "国家疫苗产品编码",
                "dose_number": "免疫程序中的剂次（1、2……）",
                "vaccination_date": "接种日期",
                "clinic_code": "实施接种的登记接种单位编码",
                "lot_fee": "该批次疫苗收取的费用（如有）",
                "adverse_event": "是否报告了疑似预防接种异常反应",
            },
        },
        "HEALTH-CLINIC-001": {
            "title": "医疗机构执业许可信息",
            "abstract": "已登记的医疗机构及其执业许可有效期。",
            "classification": "卫生健康 / 医疗机构",
            "legal_basis": "《医疗机构管理条例》第十五条（执业登记）。",
            "items": {
                "clinic_code": "医疗机构登记编码",
                "clinic_name": "登记名称",
                "district": "所在区",
                "licensed_until": "现行《医疗机构执业许可证》有效期截止日",
            },
        },
        "HEALTH-PSY-001": {
            "title": "精神障碍患者病历资料",
            "abstract": "精神障碍诊疗的临床病历记录。",
            "classification": "卫生健康 / 临床诊疗",
            "not_shareable_reason": "临床病历属于应当保密的病历资料。",
            "not_shareable_law": "《中华人民共和国精神卫生法》第四条（患者病历资料保密）。",
            "legal_basis": "《中华人民共和国精神卫生法》第四十七条（病历资料）。",
            "items": {"case_id": "病案号"},
        },
    },
    "clinic_names": _ZH_HOSPITALS
    + [
        f"{_ZH_DISTRICTS[n % 6]}第{_chinese_number(n)}社区卫生服务中心"
        for n in range(len(_ZH_HOSPITALS) + 1, 41)
    ],
    "districts": _ZH_DISTRICTS,
    "request_basis": {
        "legal_basis_citation": "《中华人民共和国疫苗管理法》",
        "legal_basis_article": "第四十八条",
        "legal_basis_text": "儿童入托、入学时，托幼机构、学校应当查验预防接种证。",
    },
    "item_reasons": {
        "vaccination.resident_id": "用于将学生与接种记录比对。",
        "vaccination.vaccine_code": "用于核查已接种的疫苗。",
        "vaccination.dose_number": "用于核查是否已按免疫程序完成接种。",
        "vaccination.birth_date": "用于确认身份。",
        "clinics.clinic_code": "用于将记录与医疗机构关联。",
        "clinics.clinic_name": "用于显示医疗机构名称。",
        "licence_check.clinic_code": "用于核查医疗机构的执业许可。",
    },
    "purposes": {
        "default": "入学时核验学生预防接种情况。",
        "draft": "草稿：剂次完整性。",
        "detainee_screening": "为健康筛查核查被羁押人员的疫苗接种情况。",
        "clinic_register": "在学校卫生健康登记册中保存持证医疗机构名单。",
        "statistics": "统计。",
        "research": "一般性研究。",
        "daily_copy": "为学校卫生健康登记册每日拷贝接种剂次。",
        "result_only": "在不查看记录的情况下确认被羁押人员的接种情况。",
        "licence_check": "2026 学年医疗机构执业许可一次性核查。",
    },
    "reasons": {
        "endorse": "用途合法；所列数据项确有必要。",
        "approve_partly": "批准，但不含出生日期：居民身份号码已足以比对"
        "（《中华人民共和国个人信息保护法》第六条，最小必要）。",
        "return": "请说明开展何种统计，以及为何需要个人信息数据项。",
        "reject": "一般性研究不属于民政局的法定职责"
        "（《中华人民共和国个人信息保护法》第三十四条）。",
        "approve": "批准。",
        "revoke": "执业许可核查已完成：用途已实现。",
    },
    "quality_report": {
        "description": "第二个接种疗程的剂次从 1 重新计数；免疫程序核查要求为 3。",
        "acknowledge": "正在与各接种单位核实。",
    },
    "demand": {
        "title": "医院出生登记信息",
        "description": "本市各医院记录的新生儿出生信息，用于办理出生登记，"
        "无需父母另行提交医院出具的《出生医学证明》。",
        "purpose": "依据医院记录办理出生登记。",
        "legal_basis": "《中华人民共和国户口登记条例》第七条（出生登记）；"
        "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）第十条（人口等基础信息资源共享）。",
        "items": ["母亲居民身份号码", "出生日期", "医院编码"],
        "join_purpose": "为新生儿编配公民身份号码。",
        "route_reason": "医院向卫生健康委员会报送出生信息。",
    },
    "dispute": {
        "disputed": "实时接口每日调用 2000 次后即停止响应；入学登记周期间，"
        "我局工作人员每日约需 3500 次。",
        "asked": "9 月前两周将每日调用次数上限提高至 4000 次。",
        "statement": "该上限用于保护各接种单位的系统；我方可改为提供一次性拷贝。",
        "escalate": "拷贝所含个人信息将超出所需范围，不符合最小必要原则。",
    },
}

TEXTS: dict[str, dict[str, Any]] = {"en": EN, "zh-hans": ZH_HANS}
