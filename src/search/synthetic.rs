//! A synthetic recipient directory for tests, benchmarks and examples (the `bench-data`
//! feature; always in tests): name data and a seeded generator.

use super::fold::fold_lower;
use crate::db::recipients::Recipient;

/// Given names, most common first (the generator prefers the front of each list).
const GIVEN: &[&str] = &[
    "James",
    "Maria",
    "Mohammed",
    "Wei",
    "Anna",
    "John",
    "Sofia",
    "David",
    "Fatima",
    "Michael",
    "Aisha",
    "José",
    "Elena",
    "Robert",
    "Priya",
    "Daniel",
    "Mei",
    "William",
    "Olga",
    "Ahmed",
    "Sarah",
    "Juan",
    "Li",
    "Emma",
    "Carlos",
    "Yuki",
    "Thomas",
    "Ana",
    "Dmitri",
    "Grace",
    "Raj",
    "Chloé",
    "Omar",
    "Hannah",
    "Luis",
    "Ngozi",
    "Christopher",
    "Zoë",
    "Björn",
    "Amara",
    "Elizabeth",
    "Hiroshi",
    "Katherine",
    "Andrés",
    "Chen",
    "Leila",
    "Samuel",
    "Ingrid",
    "Kwame",
    "Jennifer",
    "François",
    "Aleksandr",
    "Min-jun",
    "Lucía",
    "Arjun",
    "Margaret",
    "Tariq",
    "Nicholas",
    "Siobhan",
    "Mateo",
    "Ji-woo",
    "Benjamin",
    "Aylin",
    "Emeka",
    "Sebastián",
    "Ekaterina",
    "Anthony",
    "Nadia",
    "Hamid",
    "Isabella",
    "Oluwaseun",
    "Jürgen",
    "Thi",
    "Renée",
    "Alejandro",
    "Kenji",
    "Małgorzata",
    "Søren",
    "Abebe",
    "Inés",
    "Giovanni",
    "Anaïs",
    "Jonathan",
    "Francisco",
    "Guadalupe",
    "Łukasz",
    "Håkon",
    "Ümit",
    "Özlem",
    "Göran",
    "Zoltán",
    "Dóra",
    "Ólafur",
    "Chinedu",
    "Saoirse",
    "Tomás",
    "Yusuf",
    "Xiaoming",
    "Ravi",
    "Minh",
    "Noor",
    "Lars",
    "Rosa",
    "Pedro",
    "Ivan",
    "Amir",
    "Kofi",
    "Astrid",
    "Lin",
    "Ayesha",
    "Patrick",
    "Ines",
    "Hyun-woo",
    "Vikram",
    "Camille",
    "Bogdan",
    "Thandiwe",
    "Matteo",
];

/// Family names, most common first.
const FAMILY: &[&str] = &[
    "Smith",
    "Wang",
    "García",
    "Nguyễn",
    "Kim",
    "Müller",
    "Johnson",
    "Li",
    "Hernández",
    "Khan",
    "Patel",
    "Ivanov",
    "Rossi",
    "Silva",
    "Zhang",
    "Brown",
    "Martínez",
    "Chen",
    "Okafor",
    "Kowalski",
    "Nowak",
    "Yamamoto",
    "Singh",
    "Williams",
    "López",
    "Park",
    "Schmidt",
    "Ali",
    "Dubois",
    "O'Brien",
    "Andersson",
    "Sato",
    "Ahmed",
    "Jones",
    "González",
    "Lee",
    "Fernández",
    "Hoffmann",
    "Rodríguez",
    "Tanaka",
    "Haddad",
    "Mensah",
    "Van der Berg",
    "Dvořák",
    "Núñez",
    "Gómez",
    "Şahin",
    "Çelik",
    "Jørgensen",
    "Đặng",
    "Pérez",
    "Kumar",
    "McDonald",
    "de la Cruz",
    "Al-Hassan",
    "Adeyemi",
    "Papadopoulos",
    "Novak",
    "Horváth",
    "Lefèvre",
    "Moreau",
    "Bianchi",
    "Esposito",
    "Murphy",
    "Kelly",
    "Wilson",
    "Taylor",
    "Sánchez",
    "Ramírez",
    "Suzuki",
    "Takahashi",
    "Choi",
    "Jung",
    "Huang",
    "Liu",
    "Yang",
    "Wu",
    "Abdullah",
    "Hussein",
    "Mahmoud",
    "Eze",
    "Nwosu",
    "Bekele",
    "Tesfaye",
    "Kariuki",
    "Otieno",
    "Fischer",
    "Weber",
    "Wagner",
    "Becker",
    "Schäfer",
    "Nielsen",
    "Hansen",
    "Virtanen",
    "Korhonen",
    "Björk",
    "Lindqvist",
    "Öztürk",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Popescu",
    "Ionescu",
    "Kovács",
    "Szabó",
    "Novák",
    "Svoboda",
    "Petrov",
    "Sokolov",
    "Kuznetsova",
    "Smirnov",
    "Morozov",
    "Costa",
    "Oliveira",
    "Santos",
    "Pereira",
    "Almeida",
    "Gupta",
    "Sharma",
    "Reddy",
    "Iyer",
    "Das",
    "Bose",
    "Mukherjee",
    "Rahman",
    "Hossain",
    "Chowdhury",
    "Tran",
    "Pham",
    "Hoang",
    "Vu",
    "Bui",
    "Do",
    "Ngo",
    "Duong",
    "Ly",
    "Thompson",
    "White",
    "Harris",
    "Martin",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Carter",
    "Phillips",
    "Evans",
    "Turner",
    "Torres",
    "Parker",
    "Collins",
    "Edwards",
    "Stewart",
    "Flores",
    "Morris",
    "Rivera",
    "Cook",
    "Rogers",
    "Morgan",
    "Peterson",
    "Cooper",
    "Reed",
    "Bailey",
    "Bell",
    "Kelly-Nolan",
    "Smith-Jones",
    "García-López",
    "Fitzgerald",
    "MacLeod",
    "Ó Súilleabháin",
    "Lindström",
    "Åberg",
    "Lehmann",
    "Krüger",
    "Vogel",
    "Zimmermann",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Wolf",
    "Smithers",
    "Smythe",
    "Leeds",
    "Leeman",
];

/// Nicknames: (given name, alias given names).
const NICKNAMES: &[(&str, &[&str])] = &[
    ("Robert", &["Bob", "Rob"]),
    ("William", &["Bill", "Will"]),
    ("Elizabeth", &["Liz", "Beth"]),
    ("Katherine", &["Kate", "Katie"]),
    ("Michael", &["Mike"]),
    ("Jennifer", &["Jen"]),
    ("Christopher", &["Chris"]),
    ("Margaret", &["Maggie", "Peggy"]),
    ("James", &["Jim", "Jimmy"]),
    ("Thomas", &["Tom"]),
    ("Nicholas", &["Nick"]),
    ("Anthony", &["Tony"]),
    ("Jonathan", &["Jon"]),
    ("Samuel", &["Sam"]),
    ("Benjamin", &["Ben"]),
    ("Daniel", &["Dan"]),
    ("Alejandro", &["Alex"]),
    ("Francisco", &["Paco"]),
    ("José", &["Pepe"]),
    ("Guadalupe", &["Lupe"]),
    ("Dmitri", &["Dima"]),
    ("Aleksandr", &["Sasha"]),
    ("Ekaterina", &["Katya"]),
    ("Mohammed", &["Mo"]),
    ("Oluwaseun", &["Seun"]),
    ("Xiaoming", &["Kevin"]),
    ("Wei", &["David"]),
    ("Hiroshi", &["Hiro"]),
];

/// Names written in their own script, with the romanization kept as an alias.
const NATIVE: &[(&str, &str)] = &[
    ("王芳", "Wang Fang"),
    ("李娜", "Li Na"),
    ("张伟", "Zhang Wei"),
    ("Дмитрий Иванов", "Dmitry Ivanov"),
    ("Ольга Петрова", "Olga Petrova"),
    ("김민준", "Kim Min-jun"),
    ("이서연", "Lee Seo-yeon"),
    ("Γιώργος Παπαδόπουλος", "Giorgos Papadopoulos"),
    ("محمد علي", "Mohammed Ali"),
    ("佐藤健", "Sato Ken"),
];

const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "mail.example.net",
    "uni.example.edu",
    "corp.example.com",
];

/// The draws the generator makes, over fastrand's seeded generator (deterministic for a seed
/// with the fastrand version in Cargo.lock).
#[derive(Debug, Clone)]
struct Draws(fastrand::Rng);

impl Draws {
    fn new(seed: u64) -> Self {
        Draws(fastrand::Rng::with_seed(seed))
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        self.0.usize(..n)
    }

    /// In `0..n`, skewed towards 0 (roughly Zipf-like: common names first).
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b).min(self.below(n))
    }

    /// True with probability `pct` percent.
    fn chance(&mut self, pct: usize) -> bool {
        self.below(1000) < pct * 10
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.skewed(items.len())]
    }
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .map(fold_lower)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// A deterministic, realistic directory of `n` recipients (ids 1..=n) for tests and benches:
/// multicultural names (some with diacritics, about 1% in their own script with a romanized
/// alias), units like "B-1204" shared by about 2.5 people, emails for 85%, phones for 60%,
/// nicknames and former names as aliases, about 3% inactive. Same `(n, seed)`, same output.
pub fn synthetic_directory(n: usize, seed: u64) -> Vec<Recipient> {
    let mut rng = Draws::new(seed);
    let buildings = (1 + n / 8000).min(26);
    let floors = 40;
    let rooms = (n * 2 / 5 / (buildings * floors)).clamp(2, 99);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let id = i as i64 + 1;
        let mut aliases = Vec::new();
        let (name, email_base) = if rng.chance(1) {
            let (native, roman) = NATIVE[rng.below(NATIVE.len())];
            aliases.push(roman.to_owned());
            (native.to_owned(), roman.to_owned())
        } else {
            let given = rng.pick(GIVEN);
            let family = rng.pick(FAMILY);
            let name = if rng.chance(8) {
                let middle = rng.pick(GIVEN);
                format!("{given} {middle} {family}")
            } else {
                format!("{given} {family}")
            };
            if let Some((_, nicks)) = NICKNAMES.iter().find(|(g, _)| *g == given)
                && rng.chance(40)
            {
                let nick = nicks[rng.below(nicks.len())];
                aliases.push(format!("{nick} {family}"));
            }
            if rng.chance(4) {
                // A former or other family name.
                let other = rng.pick(FAMILY);
                aliases.push(format!("{given} {other}"));
            }
            (name, format!("{given} {family}"))
        };
        let unit = if rng.chance(2) {
            match rng.below(3) {
                0 => format!("Suite {}", 100 + rng.below(400)),
                1 => format!("PH-{}", 1 + rng.below(8)),
                _ => format!("Office {}", 10 + rng.below(90)),
            }
        } else {
            let b = (b'A' + rng.below(buildings) as u8) as char;
            let floor = 1 + rng.below(floors);
            let room = 1 + rng.below(rooms);
            format!("{b}-{floor}{room:02}")
        };
        let email = rng.chance(85).then(|| {
            let mut parts = email_base.split_whitespace().map(ascii_lower);
            let first = parts.next().unwrap_or_default();
            let last = parts.next_back().unwrap_or_default();
            let domain = DOMAINS[rng.skewed(DOMAINS.len())];
            match rng.below(4) {
                0 => format!("{first}.{last}@{domain}"),
                1 => format!("{}{last}@{domain}", first.chars().next().unwrap_or('x')),
                2 => format!("{first}.{last}{}@{domain}", rng.below(100)),
                _ => format!("{last}.{first}@{domain}"),
            }
        });
        let phone = rng
            .chance(60)
            .then(|| format!("+1 555 {:03} {:04}", rng.below(1000), rng.below(10_000)));
        let active = !rng.chance(3);
        out.push(Recipient {
            id,
            name,
            unit,
            email,
            phone,
            aliases,
            active,
        });
    }
    out
}
