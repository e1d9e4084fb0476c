"""Real names the synthetic demo draws from: colleges, careers, majors, assessments, people.

Why a separate module: a demo for a prospective County Office of Education must read like its
own data, so the institutions, O*NET-SOC and CIP codes here are the real ones (public lists),
while every student, and every fact about a student, is invented by ``demo.py``. Keeping the
lists apart lets a reviewer check them against their sources without reading generator code.

Each college carries the county code (``01``..``58``) of its main campus so the demo can favour
local institutions, the way real application and favourite counts cluster around home. The
``weight`` numbers are rough relative popularity among California high-school students, chosen
by hand for plausibility; they are not published statistics.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class College:
    """A real college: name as students see it, segment label, home county code, popularity."""

    name: str
    segment: str
    county: str
    weight: float


def _colleges(segment: str, rows: tuple[tuple[str, str, float], ...]) -> tuple[College, ...]:
    return tuple(College(name, segment, county, weight) for name, county, weight in rows)


UC_CAMPUSES: tuple[College, ...] = _colleges("UC", (
    ("UC Berkeley", "01", 8.0),
    ("UC Davis", "57", 8.0),
    ("UC Irvine", "30", 9.0),
    ("UCLA", "19", 10.0),
    ("UC Merced", "24", 4.0),
    ("UC Riverside", "33", 6.5),
    ("UC San Diego", "37", 9.0),
    ("UC Santa Barbara", "42", 8.0),
    ("UC Santa Cruz", "44", 5.5),
))
"""The nine UC campuses that admit undergraduates (UCSF is graduate-only)."""

CSU_CAMPUSES: tuple[College, ...] = _colleges("CSU", (
    ("Cal State Bakersfield", "15", 2.0),
    ("Cal State Channel Islands", "56", 2.0),
    ("Chico State", "04", 3.0),
    ("Cal State Dominguez Hills", "19", 3.0),
    ("Cal State East Bay", "01", 3.0),
    ("Fresno State", "10", 5.0),
    ("Cal State Fullerton", "30", 8.0),
    ("Cal Poly Humboldt", "12", 2.0),
    ("Cal State Long Beach", "19", 8.0),
    ("Cal State LA", "19", 5.0),
    ("Cal Maritime", "48", 0.5),
    ("Cal State Monterey Bay", "27", 2.5),
    ("Cal State Northridge", "19", 7.0),
    ("Cal Poly Pomona", "19", 7.0),
    ("Sacramento State", "34", 5.0),
    ("Cal State San Bernardino", "36", 3.5),
    ("San Diego State", "37", 9.0),
    ("San Francisco State", "38", 5.0),
    ("San José State", "43", 6.0),
    ("Cal Poly San Luis Obispo", "40", 6.0),
    ("Cal State San Marcos", "37", 4.0),
    ("Sonoma State", "49", 2.0),
    ("Stanislaus State", "50", 2.0),
))
"""The 23 CSU campuses as Cal State Apply lists them (Cal Maritime kept under its own name)."""

CCC_COLLEGES: tuple[College, ...] = _colleges("CCC", (
    # Alameda, Contra Costa
    ("Laney College", "01", 1.0), ("Berkeley City College", "01", 0.8),
    ("College of Alameda", "01", 0.7), ("Merritt College", "01", 0.7),
    ("Chabot College", "01", 1.0), ("Las Positas College", "01", 0.8),
    ("Ohlone College", "01", 1.0), ("Diablo Valley College", "07", 1.5),
    ("Contra Costa College", "07", 0.8), ("Los Medanos College", "07", 1.0),
    # Central Valley
    ("Fresno City College", "10", 2.0), ("Reedley College", "10", 1.2),
    ("Clovis Community College", "10", 1.2), ("West Hills College Coalinga", "10", 0.5),
    ("West Hills College Lemoore", "16", 0.7), ("Madera Community College", "20", 0.8),
    ("College of the Sequoias", "54", 1.2), ("Porterville College", "54", 0.7),
    ("Bakersfield College", "15", 1.8), ("Cerro Coso Community College", "15", 0.5),
    ("Taft College", "15", 0.4), ("Merced College", "24", 1.2),
    ("Modesto Junior College", "50", 1.5), ("San Joaquin Delta College", "39", 1.5),
    # Los Angeles
    ("East Los Angeles College", "19", 2.0), ("Santa Monica College", "19", 2.0),
    ("Pasadena City College", "19", 2.0), ("El Camino College", "19", 1.8),
    ("Los Angeles City College", "19", 1.3), ("Los Angeles Valley College", "19", 1.2),
    ("Los Angeles Pierce College", "19", 1.3), ("Los Angeles Trade-Technical College", "19", 1.0),
    ("Los Angeles Harbor College", "19", 0.8), ("Los Angeles Southwest College", "19", 0.6),
    ("Los Angeles Mission College", "19", 0.8), ("West Los Angeles College", "19", 0.8),
    ("Long Beach City College", "19", 1.8), ("Cerritos College", "19", 1.5),
    ("Rio Hondo College", "19", 1.2), ("Mt. San Antonio College", "19", 2.0),
    ("Citrus College", "19", 1.0), ("Glendale Community College", "19", 1.2),
    ("College of the Canyons", "19", 1.3), ("Antelope Valley College", "19", 1.0),
    ("Compton College", "19", 0.6),
    # Orange
    ("Santa Ana College", "30", 1.3), ("Santiago Canyon College", "30", 0.8),
    ("Orange Coast College", "30", 1.5), ("Golden West College", "30", 1.0),
    ("Irvine Valley College", "30", 1.0), ("Saddleback College", "30", 1.3),
    ("Fullerton College", "30", 1.5), ("Cypress College", "30", 1.2),
    ("Coastline College", "30", 0.4),
    # Inland Empire
    ("Riverside City College", "33", 1.8), ("Moreno Valley College", "33", 1.0),
    ("Norco College", "33", 1.0), ("Mt. San Jacinto College", "33", 1.3),
    ("College of the Desert", "33", 1.0), ("Palo Verde College", "33", 0.3),
    ("San Bernardino Valley College", "36", 1.3), ("Crafton Hills College", "36", 0.8),
    ("Chaffey College", "36", 1.8), ("Victor Valley College", "36", 1.0),
    ("Barstow Community College", "36", 0.3), ("Copper Mountain College", "36", 0.3),
    # San Diego, Imperial
    ("San Diego City College", "37", 1.3), ("San Diego Mesa College", "37", 1.8),
    ("San Diego Miramar College", "37", 1.0), ("Southwestern College", "37", 1.5),
    ("Grossmont College", "37", 1.3), ("Cuyamaca College", "37", 0.8),
    ("Palomar College", "37", 1.5), ("MiraCosta College", "37", 1.2),
    ("Imperial Valley College", "13", 1.0),
    # Sacramento region
    ("American River College", "34", 1.8), ("Sacramento City College", "34", 1.5),
    ("Cosumnes River College", "34", 1.2), ("Folsom Lake College", "34", 0.9),
    ("Sierra College", "31", 1.3), ("Yuba College", "58", 0.8),
    ("Woodland Community College", "57", 0.5), ("Lake Tahoe Community College", "09", 0.4),
    # Bay Area west and south
    ("City College of San Francisco", "38", 1.8), ("College of San Mateo", "41", 1.0),
    ("Skyline College", "41", 0.9), ("Cañada College", "41", 0.6),
    ("De Anza College", "43", 1.8), ("Foothill College", "43", 1.3),
    ("Evergreen Valley College", "43", 0.9), ("San José City College", "43", 0.9),
    ("Mission College", "43", 0.8), ("West Valley College", "43", 0.9),
    ("Gavilan College", "43", 0.6), ("College of Marin", "21", 0.7),
    ("Santa Rosa Junior College", "49", 1.5), ("Napa Valley College", "28", 0.7),
    ("Solano Community College", "48", 0.9),
    # Central Coast
    ("Hartnell College", "27", 1.0), ("Monterey Peninsula College", "27", 0.8),
    ("Cabrillo College", "44", 1.0), ("Cuesta College", "40", 1.0),
    ("Allan Hancock College", "42", 1.0), ("Santa Barbara City College", "42", 1.3),
    ("Ventura College", "56", 1.0), ("Oxnard College", "56", 0.8), ("Moorpark College", "56", 1.2),
    # North and Sierra
    ("Butte College", "04", 1.2), ("Shasta College", "45", 1.0),
    ("College of the Redwoods", "12", 0.7), ("College of the Siskiyous", "47", 0.4),
    ("Lassen Community College", "18", 0.3), ("Feather River College", "32", 0.3),
    ("Mendocino College", "23", 0.5), ("Columbia College", "55", 0.5),
))
"""Real California community colleges (a broad sample of the 116), by home county."""

PRIVATE_CA: tuple[College, ...] = _colleges("Private CA", (
    ("Stanford University", "43", 3.0),
    ("University of Southern California", "19", 4.0),
    ("California Institute of Technology", "19", 1.0),
    ("Santa Clara University", "43", 1.5),
    ("Loyola Marymount University", "19", 1.8),
    ("Pepperdine University", "19", 1.3),
    ("University of San Diego", "37", 1.2),
    ("University of San Francisco", "38", 1.3),
    ("Chapman University", "30", 1.5),
    ("Fresno Pacific University", "10", 0.6),
    ("Azusa Pacific University", "19", 0.9),
    ("Point Loma Nazarene University", "37", 0.7),
    ("Biola University", "19", 0.6),
    ("California Baptist University", "33", 0.8),
    ("University of the Pacific", "39", 1.0),
    ("Saint Mary's College of California", "07", 0.7),
    ("Claremont McKenna College", "19", 0.6),
    ("Pomona College", "19", 0.6),
    ("Occidental College", "19", 0.7),
    ("Whittier College", "19", 0.5),
    ("University of La Verne", "19", 0.6),
    ("University of Redlands", "36", 0.5),
    ("Westmont College", "42", 0.4),
    ("Mount Saint Mary's University", "19", 0.5),
    ("Dominican University of California", "21", 0.4),
))

OUT_OF_STATE: tuple[College, ...] = _colleges("Out of State", (
    ("Arizona State University", "", 1.5),
    ("University of Arizona", "", 1.2),
    ("Northern Arizona University", "", 0.6),
    ("Grand Canyon University", "", 0.8),
    ("University of Oregon", "", 1.2),
    ("Oregon State University", "", 0.8),
    ("University of Washington", "", 1.2),
    ("University of Nevada, Reno", "", 0.9),
    ("University of Nevada, Las Vegas", "", 0.9),
    ("Boise State University", "", 0.5),
    ("University of Utah", "", 0.6),
    ("Brigham Young University", "", 0.5),
    ("University of Hawaii at Manoa", "", 0.8),
    ("Howard University", "", 0.8),
    ("Spelman College", "", 0.4),
    ("Morehouse College", "", 0.3),
    ("New York University", "", 1.2),
    ("Harvard University", "", 1.5),
    ("Massachusetts Institute of Technology", "", 1.0),
    ("University of Texas at Austin", "", 0.7),
))

ALL_COLLEGES: tuple[College, ...] = (
    UC_CAMPUSES + CSU_CAMPUSES + CCC_COLLEGES + PRIVATE_CA + OUT_OF_STATE
)


@dataclass(frozen=True)
class Coded:
    """A career (O*NET-SOC code) or a major (CIP 2020 code), with a relative popularity."""

    title: str
    code: str
    weight: float


CAREERS: tuple[Coded, ...] = tuple(Coded(*r) for r in (
    ("Registered Nurses", "29-1141.00", 10.0),
    ("Software Developers", "15-1252.00", 8.0),
    ("Family Medicine Physicians", "29-1215.00", 6.0),
    ("Pediatricians, General", "29-1221.00", 3.5),
    ("Dentists, General", "29-1021.00", 3.0),
    ("Pharmacists", "29-1051.00", 2.5),
    ("Physical Therapists", "29-1123.00", 3.5),
    ("Occupational Therapists", "29-1122.00", 1.5),
    ("Physician Assistants", "29-1071.00", 2.5),
    ("Nurse Practitioners", "29-1171.00", 2.5),
    ("Veterinarians", "29-1131.00", 5.0),
    ("Dental Hygienists", "29-1292.00", 2.0),
    ("Emergency Medical Technicians", "29-2042.00", 2.0),
    ("Medical Assistants", "31-9092.00", 2.5),
    ("Licensed Practical and Licensed Vocational Nurses", "29-2061.00", 1.5),
    ("Dietitians and Nutritionists", "29-1031.00", 1.0),
    ("Clinical and Counseling Psychologists", "19-3033.00", 4.0),
    ("Substance Abuse, Behavioral Disorder, and Mental Health Counselors", "21-1018.00", 1.5),
    ("Child, Family, and School Social Workers", "21-1021.00", 2.0),
    ("Educational, Guidance, and Career Counselors and Advisors", "21-1012.00", 1.5),
    ("Elementary School Teachers, Except Special Education", "25-2021.00", 4.0),
    ("Secondary School Teachers, Except Special and Career/Technical Education",
     "25-2031.00", 2.5),
    ("Kindergarten Teachers, Except Special Education", "25-2012.00", 1.5),
    ("Lawyers", "23-1011.00", 5.0),
    ("Police Patrol Officers", "33-3051.01", 3.5),
    ("Firefighters", "33-2011.00", 3.0),
    ("Forensic Science Technicians", "19-4092.00", 3.0),
    ("Electricians", "47-2111.00", 2.5),
    ("Plumbers, Pipefitters, and Steamfitters", "47-2152.00", 1.2),
    ("Carpenters", "47-2031.00", 1.2),
    ("Automotive Service Technicians and Mechanics", "49-3023.00", 2.5),
    ("Aircraft Mechanics and Service Technicians", "49-3011.00", 1.0),
    ("Airline Pilots, Copilots, and Flight Engineers", "53-2011.00", 2.0),
    ("Accountants and Auditors", "13-2011.00", 2.0),
    ("Financial and Investment Analysts", "13-2051.00", 1.5),
    ("Marketing Managers", "11-2021.00", 1.5),
    ("Chief Executives", "11-1011.00", 2.0),
    ("Farmers, Ranchers, and Other Agricultural Managers", "11-9013.00", 1.0),
    ("Real Estate Sales Agents", "41-9022.00", 1.5),
    ("Architects, Except Landscape and Naval", "17-1011.00", 3.0),
    ("Civil Engineers", "17-2051.00", 2.0),
    ("Mechanical Engineers", "17-2141.00", 2.5),
    ("Electrical Engineers", "17-2071.00", 1.5),
    ("Aerospace Engineers", "17-2011.00", 2.0),
    ("Computer Systems Analysts", "15-1211.00", 1.0),
    ("Information Security Analysts", "15-1212.00", 1.5),
    ("Data Scientists", "15-2051.00", 1.5),
    ("Web Developers", "15-1254.00", 1.2),
    ("Video Game Designers", "15-1255.01", 4.0),
    ("Graphic Designers", "27-1024.00", 2.5),
    ("Fashion Designers", "27-1022.00", 2.5),
    ("Actors", "27-2011.00", 2.5),
    ("Musicians and Singers", "27-2042.00", 2.5),
    ("Film and Video Editors", "27-4032.00", 1.5),
    ("Photographers", "27-4021.00", 1.5),
    ("Athletes and Sports Competitors", "27-2021.00", 4.0),
    ("Coaches and Scouts", "27-2022.00", 1.2),
    ("Chefs and Head Cooks", "35-1011.00", 2.0),
    ("Hairdressers, Hairstylists, and Cosmetologists", "39-5012.00", 2.0),
    ("Zoologists and Wildlife Biologists", "19-1023.00", 1.5),
))
"""Careers students commonly favourite, with their O*NET-SOC 2019 taxonomy codes."""

MAJORS: tuple[Coded, ...] = tuple(Coded(*r) for r in (
    ("Biology, General", "26.0101", 8.0),
    ("Psychology, General", "42.0101", 8.0),
    ("Registered Nursing", "51.3801", 7.0),
    ("Computer Science", "11.0701", 7.0),
    ("Business Administration and Management, General", "52.0201", 6.0),
    ("Mechanical Engineering", "14.1901", 3.0),
    ("Civil Engineering, General", "14.0801", 1.5),
    ("Electrical and Electronics Engineering", "14.1001", 1.5),
    ("Aerospace, Aeronautical, and Astronautical/Space Engineering, General", "14.0201", 1.5),
    ("Chemical Engineering", "14.0701", 1.0),
    ("Bioengineering and Biomedical Engineering", "14.0501", 1.5),
    ("Computer Engineering, General", "14.0901", 1.5),
    ("Criminal Justice/Law Enforcement Administration", "43.0103", 3.0),
    ("Criminology", "45.0401", 2.0),
    ("Fire Science/Fire-fighting", "43.0203", 1.0),
    ("Sociology, General", "45.1101", 1.5),
    ("Political Science and Government, General", "45.1001", 2.0),
    ("Economics, General", "45.0601", 1.5),
    ("Anthropology, General", "45.0201", 0.8),
    ("English Language and Literature, General", "23.0101", 1.5),
    ("History, General", "54.0101", 1.2),
    ("Philosophy", "38.0101", 0.6),
    ("Spanish Language and Literature", "16.0905", 0.8),
    ("Liberal Arts and Sciences/Liberal Studies", "24.0101", 1.0),
    ("Chemistry, General", "40.0501", 1.2),
    ("Physics, General", "40.0801", 0.8),
    ("Mathematics, General", "27.0101", 1.0),
    ("Data Science, General", "30.7001", 1.0),
    ("Information Technology", "11.0103", 1.2),
    ("Environmental Science", "03.0104", 1.0),
    ("Marine Biology and Biological Oceanography", "26.1302", 1.5),
    ("Kinesiology and Exercise Science", "31.0505", 3.0),
    ("Nutrition Sciences", "30.1901", 0.8),
    ("Public Health, General", "51.2201", 1.2),
    ("Pre-Medicine/Pre-Medical Studies", "51.1102", 3.0),
    ("Pharmacy", "51.2001", 1.0),
    ("Dental Hygiene/Hygienist", "51.0602", 0.8),
    ("Accounting", "52.0301", 1.5),
    ("Finance, General", "52.0801", 1.5),
    ("Marketing/Marketing Management, General", "52.1401", 1.2),
    ("Elementary Education and Teaching", "13.1202", 2.0),
    ("Early Childhood Education and Teaching", "13.1210", 1.2),
    ("Social Work", "44.0701", 1.5),
    ("Communication, General", "09.0101", 1.0),
    ("Journalism", "09.0401", 0.6),
    ("Art/Art Studies, General", "50.0701", 1.5),
    ("Graphic Design", "50.0409", 1.5),
    ("Film/Cinema/Media Studies", "50.0601", 1.5),
    ("Music, General", "50.0901", 1.2),
    ("Drama and Dramatics/Theatre Arts, General", "50.0501", 1.0),
    ("Animation, Interactive Technology, Video Graphics, and Special Effects", "10.0304", 1.5),
    ("Architecture", "04.0201", 1.5),
    ("Agricultural Business and Management, General", "01.0101", 0.8),
    ("Animal Sciences, General", "01.0901", 1.0),
    ("Automobile/Automotive Mechanics Technology/Technician", "47.0604", 1.0),
    ("Culinary Arts/Chef Training", "12.0503", 1.0),
    ("Cosmetology/Cosmetologist, General", "12.0401", 1.0),
))
"""Majors students commonly favourite, with their CIP 2020 codes."""

ASSESSMENTS: tuple[tuple[str, float], ...] = (
    ("Interest Profiler", 0.55),
    ("Career Cluster Survey", 0.35),
    ("Work Values Profiler", 0.22),
    ("Workplace Employability Skills", 0.15),
)
"""The four CaliforniaColleges.edu assessments, with the share of account holders who take each."""

REGIONS: dict[str, tuple[str, ...]] = {
    "Bay Area": ("01", "07", "21", "28", "38", "41", "43", "48", "49"),
    "Central Coast": ("27", "35", "40", "42", "44"),
    "Central Valley": ("10", "15", "16", "20", "24", "39", "50", "54"),
    "Sacramento Valley": ("04", "06", "11", "34", "51", "57", "58"),
    "Sierra": ("02", "03", "05", "09", "14", "22", "26", "29", "31", "32", "46", "55"),
    "North": ("08", "12", "17", "18", "23", "25", "45", "47", "52", "53"),
    "Southern California": ("19", "30", "56"),
    "Inland Empire": ("33", "36"),
    "San Diego-Imperial": ("13", "37"),
}
"""Every county code in one region, so a county without a campus still favours its neighbours."""

REGION_OF: dict[str, str] = {code: region for region, codes in REGIONS.items() for code in codes}

FIRST_NAMES_F: tuple[str, ...] = (
    "Sofia", "Isabella", "Camila", "Emily", "Mia", "Olivia", "Emma", "Ava", "Abigail", "Valeria",
    "Ximena", "Victoria", "Natalie", "Jasmine", "Ashley", "Daniela", "Alyssa", "Angelina",
    "Leah", "Chloe", "Genesis", "Vanessa", "Elizabeth", "Madison", "Zoe", "Evelyn", "Aaliyah",
    "Hannah", "Andrea", "Kimberly", "Jocelyn", "Mariana", "Alexa", "Ariana", "Gabriela", "Maya",
    "Samantha", "Sophia", "Harper", "Luna", "Kayla", "Brianna", "Stephanie", "Giselle",
    "Isabel", "Nayeli", "Mai", "Linh", "Grace", "Sarah", "Amelia", "Aria", "Nevaeh", "Esmeralda",
)
FIRST_NAMES_M: tuple[str, ...] = (
    "Sebastian", "Daniel", "Mateo", "Noah", "Liam", "Alexander", "Ethan", "Julian", "Benjamin",
    "Aiden", "Jacob", "Joshua", "David", "Angel", "Adrian", "Christopher", "Isaac", "Jayden",
    "Anthony", "Diego", "Gabriel", "Jose", "Luis", "Carlos", "Juan", "Jesus", "Miguel",
    "Andrew", "Matthew", "Nathan", "Elijah", "Ryan", "Kevin", "Brandon", "Josue", "Emiliano",
    "Leonardo", "Santiago", "Oliver", "Lucas", "James", "Michael", "William", "Jonathan",
    "Eric", "Ivan", "Xavier", "Isaiah", "Dylan", "Ezekiel", "Kai", "Tou", "Minh", "Arjun",
)

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "hispanic": (
        "Garcia", "Hernandez", "Lopez", "Martinez", "Gonzalez", "Rodriguez", "Sanchez",
        "Ramirez", "Perez", "Flores", "Torres", "Rivera", "Gomez", "Diaz", "Cruz", "Reyes",
        "Morales", "Ortiz", "Gutierrez", "Chavez", "Ramos", "Ruiz", "Alvarez", "Mendoza",
        "Castillo", "Vasquez", "Jimenez", "Moreno", "Romero", "Herrera", "Medina", "Aguilar",
        "Vargas", "Castro", "Guzman", "Juarez", "Contreras", "Salazar", "Estrada", "Ochoa",
    ),
    "asian": (
        "Nguyen", "Tran", "Le", "Pham", "Kim", "Lee", "Wang", "Chen", "Li", "Zhang", "Liu",
        "Huang", "Yang", "Vang", "Xiong", "Lor", "Thao", "Her", "Moua", "Singh", "Patel", "Kaur",
        "Park", "Wong", "Chang", "Wu", "Lin", "Tanaka", "Nakamura", "Khan",
    ),
    "filipino": (
        "Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Dela Cruz", "Villanueva", "Aquino",
        "Ramos", "De Leon", "Mendoza", "Castillo", "Pascual", "Manalo", "Gonzales",
    ),
    "black": (
        "Johnson", "Williams", "Brown", "Jackson", "Davis", "Harris", "Robinson", "Washington",
        "Thomas", "Jones", "Smith", "Wright", "Moore", "Taylor", "Green", "Walker", "Jefferson",
    ),
    "general": (
        "Smith", "Johnson", "Miller", "Anderson", "Wilson", "Taylor", "Thomas", "Moore",
        "Martin", "Thompson", "White", "Clark", "Lewis", "Walker", "Hall", "Allen", "Young",
        "King", "Wright", "Scott", "Hill", "Baker", "Adams", "Nelson", "Carter", "Mitchell",
        "Roberts", "Campbell", "Evans", "Collins", "Stewart", "Murphy", "Cook", "Rogers",
        "Morgan", "Peterson", "Cooper", "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward",
        "Brooks", "Bennett", "Gray", "Hughes", "Price", "Sanders", "Myers", "Long", "Ross",
        "Foster", "Jensen", "Olsen", "Silva", "Souza",
    ),
}
"""Surnames common in California, grouped loosely so that names fit a student's profile."""
