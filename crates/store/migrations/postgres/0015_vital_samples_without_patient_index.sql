-- Raw samples are read by patient through the patient's admissions (`admission_id IN …`,
-- on vital_samples_admission): a sample has a patient only through the stay it was
-- attributed to, so the patient's own index held nothing the admission index does not.
-- It was one of the four B-trees every stored sample wrote (with its key ~110 of ~470 bytes
-- per sample); bench/sample-layout measures the insert rate with and without it.
DROP INDEX vital_samples_patient;
