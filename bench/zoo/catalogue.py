"""Clinical catalogue of the scenario zoo: diagnoses (ICD-10 codes), items
(drugs with their ATC class, services, labs, exams, materials) and how
medicine uses them: which items a diagnosis is treated with, in what
quantities, and how often a chronic prescription is refilled.

Written from general clinical knowledge, independently of medfraud's demo
city.  generate.py draws every honest visit from these templates and writes
the derived table item_indications (item -> diagnoses it treats, usual
quantity per week, course length, sex and age limits), from which a
clinical-knowledge table for the detector can be built.

Prices are in yuan, typical of a Chinese provincial capital around 2024;
chrgitm_lv is the NHSA charge level ('01' class A, fully in scope; '02'
class B, partly self-paid; '03' outside the catalogue, self-paid);
med_chrgitm_type is the NHSA fee category ('01' bed, '02' consultation,
'03' examination, '04' laboratory, '05' treatment, '06' surgery, '07'
nursing, '08' material, '09' western drug, '10' herbal pieces, '11'
Chinese patent medicine, '12' general practice fee, '13' registration).
"""

# key: (name, kind, price, chrgitm_lv, med_chrgitm_type, code)
# kind: drug | tcm | herbal | vaccine | service | lab | exam | material | bed
# Western drugs carry their WHO ATC code inside the national-style code.
ITEMS = {
    # consultation and general services
    "registration": ("挂号费", "service", 2.0, "01", "13", "110200001"),
    "consult": ("门诊诊查费", "service", 25.0, "01", "02", "110200002"),
    "gp_fee": ("一般诊疗费", "service", 10.0, "01", "12", "110200005"),
    "er_consult": ("急诊诊查费", "service", 35.0, "01", "02", "110200003"),
    "pharm_advice": ("药学服务费", "service", 1.0, "03", "14", "110200009"),
    "iv_infusion": ("静脉输液", "service", 15.0, "01", "05", "120400006"),
    "im_injection": ("肌肉注射", "service", 5.0, "01", "05", "120400001"),
    "dressing": ("换药", "service", 25.0, "01", "05", "120600001"),
    "vaccination": ("预防接种注射", "service", 10.0, "01", "05", "120400011"),
    "bed": ("普通病房床位费", "bed", 60.0, "01", "01", "110900001"),
    "nursing": ("二级护理", "service", 28.0, "01", "07", "121200002"),
    # laboratory and examinations
    "blood_routine": ("血细胞分析", "lab", 20.0, "01", "04", "250101015"),
    "urine_routine": ("尿液分析", "lab", 15.0, "01", "04", "250102035"),
    "crp": ("C反应蛋白测定", "lab", 40.0, "01", "04", "250403024"),
    "liver_fn": ("肝功能检查", "lab", 85.0, "01", "04", "250305001"),
    "renal_fn": ("肾功能检查", "lab", 55.0, "01", "04", "250307001"),
    "lipids": ("血脂四项", "lab", 60.0, "01", "04", "250303001"),
    "glucose": ("血糖测定", "lab", 10.0, "01", "04", "250302001"),
    "hba1c": ("糖化血红蛋白测定", "lab", 80.0, "02", "04", "250302003"),
    "ecg": ("常规心电图", "exam", 30.0, "01", "03", "310701001"),
    "chest_dr": ("胸部DR摄影", "exam", 90.0, "01", "03", "210102015"),
    "ultrasound": ("腹部彩色多普勒超声", "exam", 160.0, "01", "03", "220201001"),
    "head_ct": ("头颅CT平扫", "exam", 280.0, "01", "03", "210300001"),
    # rehabilitation and TCM therapies
    "pt": ("运动疗法", "service", 60.0, "01", "05", "340200001"),
    "ot": ("作业疗法", "service", 50.0, "02", "05", "340200016"),
    "acupuncture": ("普通针刺", "service", 40.0, "01", "05", "430000001"),
    "tuina": ("推拿治疗", "service", 55.0, "02", "05", "450000001"),
    "electro": ("中频脉冲电治疗", "service", 30.0, "02", "05", "340100010"),
    # dialysis
    "hd": ("血液透析", "service", 420.0, "01", "05", "311000006"),
    "hdf": ("血液透析滤过", "service", 620.0, "01", "05", "311000008"),
    "dialyzer": ("一次性血液透析器", "material", 150.0, "02", "08", "C1402000001"),
    "epo": ("重组人促红素注射液", "drug", 85.0, "02", "09", "XB03XA01A001"),
    "iron_sucrose": ("蔗糖铁注射液", "drug", 95.0, "02", "09", "XB03ACA001"),
    "heparin_lmw": ("低分子肝素钙注射液", "drug", 45.0, "01", "09", "XB01AB05A001"),
    "sevelamer": ("碳酸司维拉姆片", "drug", 120.0, "02", "09", "XV03AE02A001"),
    # chemotherapy
    "chemo_infusion": ("化疗药物静脉输注", "service", 50.0, "01", "05", "120400007"),
    "picc_care": ("PICC导管维护", "service", 60.0, "01", "05", "120400013"),
    "oxaliplatin": ("注射用奥沙利铂", "drug", 780.0, "02", "09", "XL01XA03A001"),
    "fluorouracil": ("氟尿嘧啶注射液", "drug", 35.0, "01", "09", "XL01BC02A001"),
    "paclitaxel": ("紫杉醇注射液", "drug", 620.0, "02", "09", "XL01CD01A001"),
    "carboplatin": ("卡铂注射液", "drug", 290.0, "01", "09", "XL01XA02A001"),
    "trastuzumab": ("注射用曲妥珠单抗", "drug", 1380.0, "02", "09", "XL01XC03A001"),
    "bevacizumab": ("贝伐珠单抗注射液", "drug", 1490.0, "02", "09", "XL01XC07A001"),
    "pemetrexed": ("注射用培美曲塞二钠", "drug", 880.0, "02", "09", "XL01BA04A001"),
    "pd1": ("注射用卡瑞利珠单抗", "drug", 2930.0, "02", "09", "XL01XC40A001"),
    "ondansetron": ("盐酸昂丹司琼注射液", "drug", 40.0, "01", "09", "XA04AA01A001"),
    "dexamethasone": ("地塞米松磷酸钠注射液", "drug", 3.0, "01", "09", "XH02AB02A001"),
    # cardiovascular and metabolic (chronic)
    "amlodipine": ("苯磺酸氨氯地平片", "drug", 16.0, "01", "09", "XC08CA01A001"),
    "nifedipine": ("硝苯地平控释片", "drug", 32.0, "01", "09", "XC08CA05A001"),
    "valsartan": ("缬沙坦胶囊", "drug", 36.0, "01", "09", "XC09CA03A001"),
    "irbesartan": ("厄贝沙坦片", "drug", 26.0, "01", "09", "XC09CA04A001"),
    "metoprolol": ("酒石酸美托洛尔片", "drug", 12.0, "01", "09", "XC07AB02A001"),
    "metformin": ("盐酸二甲双胍片", "drug", 11.0, "01", "09", "XA10BA02A001"),
    "acarbose": ("阿卡波糖片", "drug", 42.0, "01", "09", "XA10BF01A001"),
    "glimepiride": ("格列美脲片", "drug", 25.0, "01", "09", "XA10BB12A001"),
    "sitagliptin": ("磷酸西格列汀片", "drug", 78.0, "02", "09", "XA10BH01A001"),
    "glargine": ("甘精胰岛素注射液", "drug", 175.0, "02", "09", "XA10AE04A001"),
    "aspart": ("门冬胰岛素注射液", "drug", 88.0, "02", "09", "XA10AB05A001"),
    "atorvastatin": ("阿托伐他汀钙片", "drug", 30.0, "01", "09", "XC10AA05A001"),
    "rosuvastatin": ("瑞舒伐他汀钙片", "drug", 36.0, "02", "09", "XC10AA07A001"),
    "aspirin": ("阿司匹林肠溶片", "drug", 15.0, "01", "09", "XB01AC06A001"),
    "clopidogrel": ("硫酸氢氯吡格雷片", "drug", 92.0, "02", "09", "XB01AC04A001"),
    "isosorbide": ("单硝酸异山梨酯缓释片", "drug", 22.0, "01", "09", "XC01DA14A001"),
    "rivaroxaban": ("利伐沙班片", "drug", 150.0, "02", "09", "XB01AF01A001"),
    # respiratory
    "tiotropium": ("噻托溴铵吸入粉雾剂", "drug", 185.0, "02", "09", "XR03BB04A001"),
    "symbicort": ("布地奈德福莫特罗吸入粉雾剂", "drug", 235.0, "02", "09", "XR03AK07A001"),
    "salbutamol": ("硫酸沙丁胺醇吸入气雾剂", "drug", 26.0, "01", "09", "XR03AC02A001"),
    "montelukast": ("孟鲁司特钠片", "drug", 58.0, "02", "09", "XR03DC03A001"),
    # bone, joint, digestive, endocrine, others (chronic)
    "alendronate": ("阿仑膦酸钠片", "drug", 48.0, "02", "09", "XM05BA04A001"),
    "calcium_d3": ("碳酸钙D3片", "drug", 26.0, "02", "09", "XA12AXA001"),
    "calcitriol": ("骨化三醇软胶囊", "drug", 36.0, "02", "09", "XA11CC04A001"),
    "hyaluronate": ("玻璃酸钠注射液", "drug", 210.0, "02", "09", "XM09AX01A001"),
    "omeprazole": ("奥美拉唑肠溶胶囊", "drug", 19.0, "01", "09", "XA02BC01A001"),
    "rabeprazole": ("雷贝拉唑钠肠溶片", "drug", 46.0, "02", "09", "XA02BC04A001"),
    "hydrotalcite": ("铝碳酸镁咀嚼片", "drug", 21.0, "02", "09", "XA02ADA001"),
    "levothyroxine": ("左甲状腺素钠片", "drug", 24.0, "01", "09", "XH03AA01A001"),
    "entecavir": ("恩替卡韦分散片", "drug", 88.0, "02", "09", "XJ05AF10A001"),
    "sertraline": ("盐酸舍曲林片", "drug", 72.0, "02", "09", "XN06AB06A001"),
    "madopar": ("多巴丝肼片", "drug", 62.0, "01", "09", "XN04BA02A001"),
    "febuxostat": ("非布司他片", "drug", 58.0, "02", "09", "XM04AA03A001"),
    "colchicine": ("秋水仙碱片", "drug", 18.0, "01", "09", "XM04AC01A001"),
    "tamsulosin": ("盐酸坦索罗辛缓释胶囊", "drug", 46.0, "02", "09", "XG04CA02A001"),
    # acute-care drugs
    "amoxicillin": ("阿莫西林胶囊", "drug", 12.0, "01", "09", "XJ01CA04A001"),
    "cefuroxime": ("头孢呋辛酯片", "drug", 28.0, "01", "09", "XJ01DC02A001"),
    "azithromycin": ("阿奇霉素片", "drug", 25.0, "01", "09", "XJ01FA10A001"),
    "levofloxacin": ("左氧氟沙星片", "drug", 21.0, "01", "09", "XJ01MA12A001"),
    "ceftriaxone": ("注射用头孢曲松钠", "drug", 32.0, "01", "09", "XJ01DD04A001"),
    "ibuprofen": ("布洛芬缓释胶囊", "drug", 15.0, "01", "09", "XM01AE01A001"),
    "paracetamol": ("对乙酰氨基酚片", "drug", 8.0, "01", "09", "XN02BE01A001"),
    "cough_syrup": ("复方甘草口服溶液", "drug", 18.0, "01", "09", "XR05FBA001"),
    "loratadine": ("氯雷他定片", "drug", 20.0, "02", "09", "XR06AX13A001"),
    "cetirizine": ("盐酸西替利嗪片", "drug", 24.0, "02", "09", "XR06AE07A001"),
    "mometasone": ("糠酸莫米松乳膏", "drug", 30.0, "02", "09", "XD07AC13A001"),
    "levo_eye": ("左氧氟沙星滴眼液", "drug", 20.0, "01", "09", "XS01AE05A001"),
    "diclofenac_gel": ("双氯芬酸二乙胺乳胶剂", "drug", 26.0, "02", "09", "XM02AA15A001"),
    "aciclovir": ("阿昔洛韦片", "drug", 19.0, "01", "09", "XJ05AB01A001"),
    "metronidazole": ("甲硝唑片", "drug", 9.0, "01", "09", "XP01AB01A001"),
    "fluconazole": ("氟康唑胶囊", "drug", 30.0, "02", "09", "XJ02AC01A001"),
    "smectite": ("蒙脱石散", "drug", 16.0, "01", "09", "XA07BC05A001"),
    "ors": ("口服补液盐散", "drug", 8.0, "01", "09", "XA07CAA001"),
    "betahistine": ("甲磺酸倍他司汀片", "drug", 22.0, "01", "09", "XN07CA01A001"),
    # Chinese patent medicines and herbal pieces
    "lianhua": ("连花清瘟胶囊", "tcm", 28.0, "02", "11", "ZA01BAL0001"),
    "banlangen": ("板蓝根颗粒", "tcm", 15.0, "01", "11", "ZA01BAB0002"),
    "danshen": ("复方丹参滴丸", "tcm", 38.0, "01", "11", "ZA12BAF0003"),
    "xuesaitong": ("血塞通软胶囊", "tcm", 46.0, "02", "11", "ZA12BAX0004"),
    "ginkgo": ("银杏叶片", "tcm", 40.0, "02", "11", "ZA12BAY0005"),
    "angong": ("安宫牛黄丸", "tcm", 380.0, "02", "11", "ZA13BAA0006"),
    "plaster": ("麝香壮骨膏", "tcm", 16.0, "02", "11", "ZA16BAS0007"),
    "herbal": ("中药饮片(剂)", "herbal", 32.0, "02", "10", "T000000001"),
    # costly injections typical of hospital over-billing
    "thymalfasin": ("注射用胸腺法新", "drug", 185.0, "02", "09", "XL03AXA001"),
    "albumin": ("人血白蛋白", "drug", 410.0, "02", "09", "XB05AA01A001"),
    "gm1": ("单唾液酸四己糖神经节苷脂钠注射液", "drug", 125.0, "02", "09", "XN07XXA001"),
    "ngf": ("注射用鼠神经生长因子", "drug", 245.0, "02", "09", "XN07XXA002"),
    "calf_blood": ("小牛血去蛋白提取物注射液", "drug", 82.0, "02", "09", "XB06ABA001"),
    "danhong": ("丹红注射液", "tcm", 62.0, "02", "11", "ZA12BAD0008"),
    "omeprazole_iv": ("注射用奥美拉唑钠", "drug", 42.0, "02", "09", "XA02BC01A002"),
    # inpatient procedures and implants
    "appendectomy": ("阑尾切除术", "service", 1250.0, "01", "06", "331003001"),
    "hip_replacement": ("人工股骨头置换术", "service", 3600.0, "01", "06", "331505002"),
    "hip_implant": ("人工股骨头假体", "material", 18500.0, "02", "08", "C1312000003"),
    "delivery": ("单胎顺产接生", "service", 850.0, "01", "06", "331600001"),
    # prevention
    "flu_vaccine": ("流感病毒裂解疫苗", "vaccine", 95.0, "02", "09", "XJ07BB02A001"),
    "hepb_vaccine": ("乙型肝炎疫苗", "vaccine", 25.0, "01", "09", "XJ07BC01A001"),
}

# ICD-10 diagnoses: code, name, chronic?, department, sex limit (None, '1' male, '2' female)
DIAGNOSES = {
    # acute
    "J06.9": ("急性上呼吸道感染", False, "A03", None),
    "J20.9": ("急性支气管炎", False, "A03", None),
    "J02.9": ("急性咽炎", False, "A11", None),
    "J18.9": ("肺炎", False, "A03", None),
    "A09.0": ("感染性胃肠炎", False, "A04", None),
    "K29.7": ("胃炎", False, "A04", None),
    "R50.9": ("发热", False, "A03", None),
    "R51": ("头痛", False, "A05", None),
    "R42": ("头晕", False, "A05", None),
    "M54.5": ("腰痛", False, "A08", None),
    "S93.4": ("踝关节扭伤", False, "A08", None),
    "S61.9": ("手部开放性伤口", False, "A07", None),
    "L30.9": ("皮炎", False, "A12", None),
    "L50.9": ("荨麻疹", False, "A12", None),
    "H10.9": ("结膜炎", False, "A13", None),
    "N39.0": ("尿路感染", False, "A06", None),
    "K02.9": ("龋病", False, "A14", None),
    "B02.9": ("带状疱疹", False, "A12", None),
    "N76.0": ("急性阴道炎", False, "A09", "2"),
    # inpatient
    "I63.9": ("脑梗死", False, "A05", None),
    "S72.0": ("股骨颈骨折", False, "A08", None),
    "K35.8": ("急性阑尾炎", False, "A07", None),
    "J44.1": ("慢性阻塞性肺病伴急性加重", False, "A03", None),
    "O80": ("单胎顺产", False, "A09", "2"),
    # chronic
    "I10": ("原发性高血压", True, "A02", None),
    "E11.9": ("2型糖尿病", True, "A10", None),
    "E78.5": ("高脂血症", True, "A02", None),
    "I25.1": ("冠状动脉粥样硬化性心脏病", True, "A02", None),
    "J44.9": ("慢性阻塞性肺病", True, "A03", None),
    "J45.9": ("支气管哮喘", True, "A03", None),
    "M81.9": ("骨质疏松", True, "A08", None),
    "M17.9": ("膝关节骨关节炎", True, "A08", None),
    "K21.9": ("胃食管反流病", True, "A04", None),
    "E03.9": ("甲状腺功能减退症", True, "A10", None),
    "B18.1": ("慢性乙型病毒性肝炎", True, "A04", None),
    "F32.9": ("抑郁发作", True, "A15", None),
    "G20": ("帕金森病", True, "A05", None),
    "M10.9": ("痛风", True, "A10", None),
    "N40": ("前列腺增生", True, "A06", "1"),
    "I48": ("心房颤动", True, "A02", None),
    "I69.3": ("脑梗死后遗症", True, "A16", None),
    # treatment cohorts and prevention
    "N18.5": ("慢性肾脏病5期", True, "A17", None),
    "C50.9": ("乳腺恶性肿瘤", True, "A18", "2"),
    "C34.9": ("肺恶性肿瘤", True, "A18", None),
    "C18.9": ("结肠恶性肿瘤", True, "A18", None),
    "Z00.0": ("一般健康检查", False, "A19", None),
    "Z23": ("需要预防接种", False, "A20", None),
}

DEPARTMENTS = {
    "A02": "心内科", "A03": "呼吸内科", "A04": "消化内科", "A05": "神经内科",
    "A06": "泌尿外科", "A07": "普外科", "A08": "骨科", "A09": "妇产科",
    "A10": "内分泌科", "A11": "耳鼻喉科", "A12": "皮肤科", "A13": "眼科",
    "A14": "口腔科", "A15": "精神心理科", "A16": "康复医学科", "A17": "肾内科",
    "A18": "肿瘤科", "A19": "体检中心", "A20": "预防保健科", "A21": "急诊科",
    "Y01": "药房",
}

# Acute diagnoses: weight by age (child < 15, adult 15-59, elder 60+), where
# people go (pharmacy, clinic, primary, secondary, tertiary), labs/exams as
# (item, probability), drugs as (item, probability, min count, max count).
ACUTE = {
    "J06.9": ((10, 6, 4), (0.45, 0.15, 0.2, 0.1, 0.1),
              [("blood_routine", 0.3), ("crp", 0.15)],
              [("lianhua", 0.4, 1, 2), ("banlangen", 0.3, 1, 2), ("paracetamol", 0.3, 1, 1),
               ("cough_syrup", 0.3, 1, 1), ("amoxicillin", 0.2, 1, 2), ("loratadine", 0.08, 1, 1)]),
    "J20.9": ((4, 3, 4), (0.2, 0.15, 0.25, 0.2, 0.2),
              [("blood_routine", 0.5), ("crp", 0.3), ("chest_dr", 0.2)],
              [("amoxicillin", 0.4, 1, 2), ("cefuroxime", 0.3, 1, 2), ("azithromycin", 0.2, 1, 1),
               ("cough_syrup", 0.6, 1, 2), ("montelukast", 0.05, 1, 1)]),
    "J02.9": ((3, 4, 2), (0.45, 0.2, 0.2, 0.1, 0.05),
              [("blood_routine", 0.2)],
              [("amoxicillin", 0.4, 1, 2), ("banlangen", 0.4, 1, 2), ("lianhua", 0.2, 1, 1)]),
    "J18.9": ((1.5, 0.4, 1.5), (0.0, 0.03, 0.12, 0.3, 0.55),
              [("blood_routine", 0.9), ("crp", 0.7), ("chest_dr", 0.8)],
              [("ceftriaxone", 0.5, 2, 4), ("iv_infusion", 0.5, 2, 4), ("azithromycin", 0.5, 1, 2),
               ("levofloxacin", 0.2, 1, 2), ("cough_syrup", 0.4, 1, 2)]),
    "A09.0": ((3, 2, 1.5), (0.3, 0.2, 0.25, 0.1, 0.15),
              [("blood_routine", 0.3)],
              [("smectite", 0.6, 1, 2), ("ors", 0.4, 1, 2), ("levofloxacin", 0.15, 1, 1)]),
    "K29.7": ((0.2, 4, 3), (0.45, 0.1, 0.2, 0.1, 0.15),
              [],
              [("omeprazole", 0.5, 1, 2), ("hydrotalcite", 0.4, 1, 2), ("rabeprazole", 0.2, 1, 1)]),
    "R50.9": ((5, 1, 1), (0.3, 0.15, 0.2, 0.15, 0.2),
              [("blood_routine", 0.6), ("crp", 0.3)],
              [("paracetamol", 0.5, 1, 1), ("ibuprofen", 0.5, 1, 1)]),
    "R51": ((0.5, 2, 1), (0.5, 0.1, 0.15, 0.1, 0.15),
            [("head_ct", 0.05)],
            [("ibuprofen", 0.6, 1, 1), ("paracetamol", 0.4, 1, 1)]),
    "R42": ((0.1, 1, 3), (0.2, 0.1, 0.25, 0.2, 0.25),
            [("head_ct", 0.1), ("blood_routine", 0.2)],
            [("betahistine", 0.5, 1, 2), ("ginkgo", 0.3, 1, 2)]),
    "M54.5": ((0.1, 4, 4), (0.35, 0.15, 0.2, 0.15, 0.15),
              [("acupuncture", 0.05), ("tuina", 0.05)],
              [("ibuprofen", 0.4, 1, 1), ("diclofenac_gel", 0.4, 1, 1), ("plaster", 0.4, 1, 3)]),
    "S93.4": ((1, 2, 0.5), (0.25, 0.2, 0.2, 0.15, 0.2),
              [],
              [("diclofenac_gel", 0.6, 1, 1), ("plaster", 0.5, 1, 2), ("ibuprofen", 0.3, 1, 1)]),
    "S61.9": ((1, 1.5, 0.5), (0.05, 0.35, 0.3, 0.15, 0.15),
              [("dressing", 0.9)],
              [("cefuroxime", 0.3, 1, 1)]),
    "L30.9": ((2, 3, 2), (0.45, 0.15, 0.15, 0.1, 0.15),
              [],
              [("mometasone", 0.7, 1, 1), ("loratadine", 0.4, 1, 1)]),
    "L50.9": ((1.5, 2, 1), (0.45, 0.15, 0.15, 0.1, 0.15),
              [],
              [("loratadine", 0.6, 1, 1), ("cetirizine", 0.4, 1, 1)]),
    "H10.9": ((2, 1.5, 1), (0.5, 0.15, 0.15, 0.1, 0.1),
              [],
              [("levo_eye", 0.9, 1, 1)]),
    "N39.0": ((0.3, 1.5, 1.5), (0.25, 0.15, 0.25, 0.15, 0.2),
              [("urine_routine", 0.7)],
              [("levofloxacin", 0.6, 1, 1), ("cefuroxime", 0.3, 1, 1)]),
    "K02.9": ((2, 2, 1), (0.05, 0.6, 0.15, 0.1, 0.1),
              [],
              [("ibuprofen", 0.3, 1, 1), ("metronidazole", 0.3, 1, 1)]),
    "B02.9": ((0.1, 1, 3), (0.2, 0.1, 0.25, 0.2, 0.25),
              [],
              [("aciclovir", 0.8, 1, 2), ("ibuprofen", 0.3, 1, 1)]),
    "N76.0": ((0, 2, 0.5), (0.3, 0.2, 0.2, 0.15, 0.15),
              [],
              [("metronidazole", 0.6, 1, 1), ("fluconazole", 0.4, 1, 1)]),
}

# Chronic conditions: prevalence (age 40-59, age 60+; under 40 a tenth of the
# first unless young-onset), sex limit, drugs (item, weight, boxes a month),
# share of hospital refills settled as chronic/special outpatient (med_type 14).
CHRONIC = {
    "I10": ((0.28, 0.52), None, [("amlodipine", 0.35, 1), ("nifedipine", 0.25, 1), ("valsartan", 0.2, 1),
                                  ("irbesartan", 0.15, 1), ("metoprolol", 0.1, 1)], 0.2),
    "E11.9": ((0.10, 0.20), None, [("metformin", 0.5, 3), ("acarbose", 0.2, 2), ("glimepiride", 0.15, 1),
                                    ("sitagliptin", 0.1, 1), ("glargine", 0.15, 2), ("aspart", 0.05, 2)], 0.6),
    "E78.5": ((0.10, 0.15), None, [("atorvastatin", 0.6, 1), ("rosuvastatin", 0.4, 1)], 0.1),
    "I25.1": ((0.03, 0.12), None, [("aspirin", 0.5, 1), ("clopidogrel", 0.25, 1), ("isosorbide", 0.25, 1),
                                    ("danshen", 0.2, 1), ("atorvastatin", 0.2, 1)], 0.5),
    "J44.9": ((0.02, 0.08), None, [("tiotropium", 0.5, 1), ("symbicort", 0.4, 1), ("salbutamol", 0.3, 1)], 0.6),
    "J45.9": ((0.02, 0.02), None, [("symbicort", 0.5, 1), ("salbutamol", 0.4, 1), ("montelukast", 0.3, 1)], 0.3),
    "M81.9": ((0.02, 0.10), "2", [("calcium_d3", 0.7, 1), ("alendronate", 0.3, 1), ("calcitriol", 0.2, 1)], 0.0),
    "M17.9": ((0.05, 0.15), None, [("diclofenac_gel", 0.4, 1), ("plaster", 0.3, 2), ("hyaluronate", 0.05, 1)], 0.0),
    "K21.9": ((0.05, 0.05), None, [("omeprazole", 0.5, 2), ("rabeprazole", 0.4, 1)], 0.0),
    "E03.9": ((0.03, 0.03), "2", [("levothyroxine", 1.0, 1)], 0.2),
    "B18.1": ((0.03, 0.02), None, [("entecavir", 1.0, 1)], 0.8),
    "F32.9": ((0.02, 0.02), None, [("sertraline", 1.0, 1)], 0.5),
    "G20": ((0.0, 0.02), None, [("madopar", 1.0, 2)], 0.8),
    "M10.9": ((0.03, 0.04), "1", [("febuxostat", 0.6, 1), ("colchicine", 0.3, 1)], 0.0),
    "N40": ((0.02, 0.15), "1", [("tamsulosin", 1.0, 1)], 0.0),
    "I48": ((0.005, 0.04), None, [("rivaroxaban", 0.7, 1), ("metoprolol", 0.3, 1)], 0.5),
    "I69.3": ((0.005, 0.04), None, [("aspirin", 0.4, 1), ("clopidogrel", 0.4, 1), ("atorvastatin", 0.4, 1),
                                     ("xuesaitong", 0.3, 1), ("ginkgo", 0.2, 1)], 0.7),
}
YOUNG_ONSET = {"J45.9", "E03.9", "B18.1", "F32.9"}
# labs a chronic patient has now and then at a hospital refill
CHRONIC_LABS = {"I10": ["ecg", "renal_fn"], "E11.9": ["glucose", "hba1c"], "E78.5": ["lipids", "liver_fn"],
                "I25.1": ["ecg"], "B18.1": ["liver_fn"], "M10.9": ["renal_fn"], "I48": ["ecg"]}

# Inpatient stays: diagnosis -> (age weights child/adult/elder, median length
# of stay in days, daily drugs, procedures, surgery items)
INPATIENT = {
    "J18.9": ((1.5, 0.3, 2.0), 7, ["ceftriaxone", "iv_infusion", "azithromycin"], ["blood_routine", "crp", "chest_dr"], []),
    "I63.9": ((0.0, 0.1, 1.5), 12, ["gm1", "danhong", "iv_infusion", "aspirin"], ["head_ct", "blood_routine", "lipids"], []),
    "S72.0": ((0.0, 0.05, 0.8), 14, ["ceftriaxone", "iv_infusion", "heparin_lmw"], ["chest_dr", "blood_routine"],
              ["hip_replacement", "hip_implant"]),
    "K35.8": ((0.3, 0.5, 0.1), 5, ["ceftriaxone", "iv_infusion"], ["blood_routine", "ultrasound"], ["appendectomy"]),
    "J44.1": ((0.0, 0.05, 1.0), 9, ["ceftriaxone", "iv_infusion", "symbicort"], ["blood_routine", "chest_dr"], []),
    "O80": ((0.0, 0.4, 0.0), 3, ["iv_infusion"], ["blood_routine", "ultrasound"], ["delivery"]),
}

# Items that people resell: bought by rings at pharmacies and clinics.  Every
# one of them is also claimed by honest chronic patients (see CHRONIC).
RESALE_ITEMS = ["glargine", "clopidogrel", "sitagliptin", "tiotropium", "symbicort", "entecavir",
                "rosuvastatin", "rivaroxaban", "danshen", "xuesaitong", "valsartan", "febuxostat", "aspart"]
# costly items of hospital over-billing (injections, therapies, herbal pieces)
COSTLY_ITEMS = ["thymalfasin", "albumin", "gm1", "ngf", "calf_blood", "danhong", "hyaluronate", "angong", "herbal"]
# ordinary cheap items: claimed by rings in bulk, or mixed in to look normal
ORDINARY_ITEMS = ["omeprazole", "ibuprofen", "amoxicillin", "cough_syrup", "loratadine", "banlangen",
                  "lianhua", "calcium_d3", "aspirin", "metformin", "amlodipine", "plaster", "diclofenac_gel"]
# diagnoses a costly item is billed under when a ring needs one
COSTLY_DX = {"thymalfasin": "B18.1", "albumin": "I63.9", "gm1": "I69.3", "ngf": "I69.3", "calf_blood": "I69.3",
             "danhong": "I25.1", "hyaluronate": "M17.9", "angong": "I69.3", "herbal": "M54.5"}

# cities the zoo draws from: (region prefix, city name, district names)
CITIES = [
    ("3301", "杭州", ["上城", "拱墅", "西湖", "滨江", "萧山", "余杭", "临平", "钱塘", "富阳"]),
    ("4401", "广州", ["荔湾", "越秀", "海珠", "天河", "白云", "黄埔", "番禺", "花都", "南沙"]),
    ("5101", "成都", ["锦江", "青羊", "金牛", "武侯", "成华", "龙泉驿", "新都", "温江", "双流", "郫都"]),
    ("3702", "青岛", ["市南", "市北", "黄岛", "崂山", "李沧", "城阳", "即墨"]),
    ("4201", "武汉", ["江岸", "江汉", "硚口", "汉阳", "武昌", "青山", "洪山", "东西湖"]),
    ("6101", "西安", ["新城", "碑林", "莲湖", "灞桥", "未央", "雁塔", "阎良", "长安"]),
    ("3205", "苏州", ["虎丘", "吴中", "相城", "姑苏", "吴江"]),
    ("4301", "长沙", ["芙蓉", "天心", "岳麓", "开福", "雨花", "望城"]),
]
PHARMACY_CHAINS = ["老百姓大药房", "益丰大药房", "大参林", "一心堂", "海王星辰", "国大药房", "同仁堂药店", "仁和药房"]


def indications():
    """item_indications rows: (item key, dx code, usual count per week, course
    days, sex limit, min age, max age), one per (item, diagnosis) the
    templates above use, shaped as medfraud.item_indications (course None =
    chronic, ages None = no limit).  Chronic drugs: boxes a month / 4.3 per
    week, no end; acute drugs: the template's mean count within a course of
    a week; cohort treatments as their schedules give them."""
    rows = {}

    def put(item, dx, per_week, course, sex=None, lo=None, hi=None):
        key = (item, dx)
        if key not in rows:
            rows[key] = (item, dx, round(per_week, 3), course, sex, lo, hi)

    for dx, (_, _, labs, drugs) in ACUTE.items():
        sex = DIAGNOSES[dx][3]
        for item, _p in labs:
            put(item, dx, 1.0, 7, sex)
        for item, _p, lo, hi in drugs:
            put(item, dx, (lo + hi) / 2.0, 7, sex)
    for dx, (_, sex, drugs, _) in CHRONIC.items():
        # adults only, but for asthma: children have it too (the generator
        # gives it to 3% of them), and its drugs are indicated for them
        lo = None if dx == "J45.9" else 18
        for item, _w, boxes in drugs:
            put(item, dx, boxes / 4.3, None, sex, lo)
        for item in CHRONIC_LABS.get(dx, []):
            put(item, dx, 0.1, None, sex, lo)
    for dx, (_, _, daily, procs, surgery) in INPATIENT.items():
        sex = DIAGNOSES[dx][3]
        for item in daily:
            put(item, dx, 7.0, 14, sex)
        for item in procs + surgery:
            put(item, dx, 1.0, 14, sex)
    for item in ["hd", "dialyzer", "heparin_lmw"]:
        put(item, "N18.5", 3.0, None, None, 18)
    put("hdf", "N18.5", 0.5, None, None, 18)
    put("epo", "N18.5", 2.0, None, None, 18)
    put("iron_sucrose", "N18.5", 0.25, None, None, 18)
    put("sevelamer", "N18.5", 0.5, None, None, 18)
    # chemotherapy drugs: vials a cycle over the cycle's weeks (quantity a
    # week, as the column means), the most any regimen gives
    vials_week = {}
    for _dx, cycle, drugs in CHEMO_REGIMENS.values():
        for item, vials in drugs:
            vials_week[item] = max(vials_week.get(item, 0.0), vials * 7.0 / cycle)
    for dx, drugs in CHEMO_REGIMENS_BY_DX.items():
        for item in sorted(drugs):
            put(item, dx, vials_week[item], 180, DIAGNOSES[dx][3], 18)
    for item in ["chemo_infusion", "picc_care", "ondansetron", "dexamethasone", "blood_routine", "liver_fn"]:
        for dx in CHEMO_REGIMENS_BY_DX:
            put(item, dx, 0.5, 180, DIAGNOSES[dx][3], 18)
    for dx in REHAB_DX:
        for item in REHAB_ITEMS:
            put(item, dx, 5.0, 42, None, 18)
    for item in ["blood_routine", "liver_fn", "renal_fn", "ecg", "ultrasound", "chest_dr"]:
        put(item, "Z00.0", 1.0, 1)
    # a flu shot is one dose; hepatitis B is a course of three (0, 1 and 6 months)
    put("flu_vaccine", "Z23", 1.0, 1)
    for item in ["hepb_vaccine", "vaccination"]:
        put(item, "Z23", 1.0, 180)
    for item, dx in COSTLY_DX.items():
        put(item, dx, 1.0, 14, None, 18)
    return sorted(rows.values(), key=lambda x: (x[0], x[1]))


# chemotherapy regimens: name -> (diagnosis, cycle days, drugs with vials per cycle)
CHEMO_REGIMENS = {
    "FOLFOX": ("C18.9", 14, [("oxaliplatin", 2), ("fluorouracil", 4)]),
    "TC": ("C34.9", 21, [("paclitaxel", 2), ("carboplatin", 2)]),
    "pemetrexed-carboplatin": ("C34.9", 21, [("pemetrexed", 2), ("carboplatin", 2)]),
    "trastuzumab": ("C50.9", 21, [("trastuzumab", 3)]),
    "paclitaxel-weekly": ("C50.9", 7, [("paclitaxel", 1)]),
    "bevacizumab-FOLFOX": ("C18.9", 14, [("bevacizumab", 2), ("oxaliplatin", 2), ("fluorouracil", 4)]),
    "PD-1": ("C34.9", 21, [("pd1", 1)]),
}
CHEMO_REGIMENS_BY_DX = {}
for _name, (_dx, _cycle, _drugs) in CHEMO_REGIMENS.items():
    CHEMO_REGIMENS_BY_DX.setdefault(_dx, set()).update(d for d, _ in _drugs)
REHAB_DX = ["I69.3", "S72.0", "M17.9", "M54.5"]
REHAB_ITEMS = ["pt", "ot", "acupuncture", "tuina", "electro"]
