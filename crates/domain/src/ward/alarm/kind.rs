//! The kinds of alarm, their IEC 60601-1-8 priority and whether they concern the patient's
//! physiology, the equipment, or a call for help.

labelled_enum! {
    /// IEC 60601-1-8 priority, lowest first: high needs an immediate response, medium a
    /// prompt one, low awareness.
    Priority {
        Low => "low", "낮음", "Low";
        Medium => "medium", "중간", "Medium";
        High => "high", "높음", "High";
    }
}

labelled_enum! {
    /// Physiological alarms are about the patient, technical ones about the equipment (a
    /// silent device says nothing about the patient, but it does mean nobody is watching).
    /// A nurse call is neither: a person asked for help.
    Category {
        Physiological => "physiological", "생리적 경보", "Physiological";
        Technical => "technical", "기술적 경보", "Technical";
        PatientCall => "patient_call", "환자 호출", "Patient call";
    }
}

labelled_enum! {
    /// Something that can alarm. At most one alarm per (patient, kind) is open at a time.
    AlarmKind {
        Fever => "fever", "발열", "Fever";
        Hypothermia => "hypothermia", "저체온", "Hypothermia";
        LowSpo2 => "low_spo2", "산소포화도 저하", "Low SpO2";
        Bradycardia => "bradycardia", "서맥", "Bradycardia";
        Tachycardia => "tachycardia", "빈맥", "Tachycardia";
        Bradypnoea => "bradypnoea", "서호흡", "Bradypnoea";
        Tachypnoea => "tachypnoea", "빈호흡", "Tachypnoea";
        Hypotension => "hypotension", "저혈압", "Hypotension";
        /// NEWS2 low-medium or medium band (a single 3, or a total of 5–6).
        News2Medium => "news2_medium", "NEWS2 중위험", "NEWS2 medium";
        /// NEWS2 of 7 or more.
        News2High => "news2_high", "NEWS2 고위험", "NEWS2 high";
        IvBagLow => "iv_bag_low", "수액 부족", "IV bag low";
        IvBagEmpty => "iv_bag_empty", "수액 소진", "IV bag empty";
        NurseCall => "nurse_call", "간호사 호출", "Nurse call";
        DeviceSilent => "device_silent", "기기 응답 없음", "Device silent";
        /// Raised by the ingest path when a device reports a detached sensor; the evaluator
        /// has no sample that says so.
        SensorOff => "sensor_off", "센서 분리", "Sensor off";
        BatteryLow => "battery_low", "배터리 부족", "Battery low";
    }
}

impl AlarmKind {
    /// Fixed per kind so a nurse learns what each sound means. Falls that stop a body
    /// working (oxygen, heart, breathing, pressure) are high; a fever is a prompt matter.
    pub fn priority(self) -> Priority {
        use AlarmKind as K;
        match self {
            K::LowSpo2 | K::Bradycardia | K::Bradypnoea | K::Hypotension => Priority::High,
            K::News2High | K::IvBagEmpty | K::NurseCall => Priority::High,
            K::Fever | K::Hypothermia | K::Tachycardia | K::Tachypnoea => Priority::Medium,
            K::News2Medium | K::IvBagLow | K::DeviceSilent | K::SensorOff => Priority::Medium,
            K::BatteryLow => Priority::Low,
        }
    }

    /// IV bag alarms count as technical: they are about the infusion equipment, as on an
    /// infusion pump, not a measurement of the patient.
    pub fn category(self) -> Category {
        use AlarmKind as K;
        match self {
            K::NurseCall => Category::PatientCall,
            K::IvBagLow | K::IvBagEmpty | K::DeviceSilent | K::SensorOff | K::BatteryLow => {
                Category::Technical
            }
            _ => Category::Physiological,
        }
    }

    /// A latching alarm stays open after its condition ends until a person acknowledges and
    /// resolves it: a released nurse-call button does not mean someone came.
    pub fn is_latching(self) -> bool {
        self == AlarmKind::NurseCall
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_order_from_low_to_high() {
        assert!(Priority::Low < Priority::Medium && Priority::Medium < Priority::High);
    }

    #[test]
    fn the_design_priorities_hold_for_iv_bag_and_nurse_call() {
        assert_eq!(AlarmKind::IvBagLow.priority(), Priority::Medium);
        assert_eq!(AlarmKind::IvBagEmpty.priority(), Priority::High);
        assert_eq!(AlarmKind::NurseCall.priority(), Priority::High);
        assert_eq!(AlarmKind::BatteryLow.category(), Category::Technical);
        assert_eq!(AlarmKind::DeviceSilent.category(), Category::Technical);
        assert_eq!(AlarmKind::Fever.category(), Category::Physiological);
    }

    #[test]
    fn every_kind_has_a_unique_code_and_both_labels() {
        let mut codes: Vec<_> = AlarmKind::ALL.iter().map(|k| k.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), AlarmKind::ALL.len());
        for &kind in AlarmKind::ALL {
            assert_eq!(kind.code().parse::<AlarmKind>(), Ok(kind));
            assert!(!kind.ko().is_empty() && !kind.en().is_empty());
        }
    }
}
