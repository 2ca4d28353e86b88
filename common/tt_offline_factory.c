/*  tt_offline_factory -- the offline model's answers for the factory and the
 *  results extractor: "dimensions", "sample_plan", "person", "extraction".
 *
 *  It reads what a real model reads: the user message of those tasks is one
 *  JSON object (coordinator/coord_factory_prompt.c, coordinator/coord_extract.c)
 *  with population_context, population_size, dimensions, particularities,
 *  names_already_taken, or objective, fields, focus and interaction_history.
 *  Every choice comes from a hash of (seed, that message), so the same request
 *  always gets the same answer, here or in fakellm.
 *
 *  People are drawn from lists of our own (the tables below are most of this
 *  file): about 100 female, 100 male and 20 neutral first names and 170
 *  surnames (over 30,000 full names), 50 occupations, and pools of traits,
 *  tastes, beliefs and habits. What the particularities say (an age band, a
 *  gender, a place, an occupation, an income, a political leaning) wins over
 *  chance. Asked again because a name is taken, it walks the surnames (then the
 *  first names) from its draw until the full name is not in names_already_taken.
 *
 *  Extraction is lexical: an opinion-like field gets the person's last words, a
 *  yes/no-like field (buy, purchase, would_*, ...) "yes" or "no" from positive
 *  and negative words in what the person said, a rating a number from the same
 *  balance. Crude, deterministic and labelled as the offline model.
 */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tt_buf.h"
#include "tt_hash.h"
#include "tt_json.h"
#include "tt_mem.h"
#include "tt_offline.h"
#include "tt_rng.h"

char *tt_offline_dimensions(const json_t *messages, uint64_t seed);
char *tt_offline_sample_plan(const json_t *messages, uint64_t seed);
char *tt_offline_person(const json_t *messages, uint64_t seed);
char *tt_offline_extraction(const json_t *messages, uint64_t seed);

#define S_N(list) (sizeof(list) / sizeof((list)[0]))

/* ------------------------------------------------------------------ data */

/* Data tables, packed by hand. */
/* clang-format off */
static const char *const s_female[] = {
    "Abena", "Adaeze", "Agnes", "Aiko", "Aisha", "Alejandra", "Alice", "Amara", "Amelia", "Ana",
    "Anika", "Astrid", "Ayasha", "Beatriz", "Bianca", "Bridget", "Camille", "Carmen", "Catalina",
    "Chiara", "Chloe", "Clara", "Dalia", "Daniela", "Deborah", "Eleni", "Elif", "Elise", "Emma",
    "Esther", "Eva", "Fatima", "Fiona", "Freya", "Gabriela", "Grace", "Hana", "Harriet", "Helena",
    "Hélène", "Ines", "Ingrid", "Isabel", "Jasmine", "Joanna", "Josée", "Julia", "Kalani", "Kamala",
    "Karin", "Keiko", "Laila", "Lara", "Leah", "Lena", "Lucia", "Lucy", "Mai", "Malia", "Margaret",
    "Maria", "Marta", "Maya", "Mei", "Mira", "Nadia", "Naledi", "Nia", "Noémie", "Noor", "Olga",
    "Olivia", "Paula", "Priya", "Rachel", "Rana", "Renata", "Rosa", "Ruth", "Saanvi", "Sakura",
    "Salma", "Sara", "Siobhan", "Sofia", "Sunita", "Tamar", "Tanvi", "Teresa", "Thandiwe",
    "Valentina", "Vera", "Wanjiru", "Ximena", "Yara", "Yasmin", "Yuki", "Zainab", "Zoe", "Zofia",
};
static const char *const s_male[] = {
    "Aarav", "Abdul", "Adam", "Ahmed", "Alejandro", "Amir", "Andre", "Anton", "Arjun", "Ben",
    "Bruno", "Caleb", "Carlos", "Chen", "Chidi", "Connor", "Daniel", "Dario", "David", "Desmond",
    "Diego", "Dmitri", "Elias", "Emeka", "Emil", "Étienne", "Ethan", "Farid", "Felix", "Finn",
    "François", "Gabriel", "George", "Hamza", "Hassan", "Henrik", "Hiroshi", "Hugo", "Ibrahim",
    "Igor", "Isaac", "Ivan", "Jakob", "Jamal", "James", "Javier", "Jonah", "Jorge", "Joseph",
    "Kenji", "Kieran", "Kofi", "Kwame", "Lars", "Leon", "Liam", "Luca", "Luis", "Malik", "Marco",
    "Mateo", "Mathieu", "Matthew", "Mehmet", "Miguel", "Mohammed", "Nathan", "Nikolai", "Noah",
    "Omar", "Oscar", "Owen", "Pablo", "Patrick", "Pedro", "Rafael", "Rahul", "Raphaël", "Ravi",
    "Reza", "Samuel", "Santiago", "Sean", "Sergei", "Simon", "Stefan", "Tariq", "Theo", "Thomas",
    "Tiago", "Tomas", "Tunde", "Victor", "Wei", "William", "Yusuf", "Zoran", "Kai",
};
static const char *const s_neutral[] = {
    "Alex", "Ari", "Avery", "Charlie", "Eden", "Jessie", "Jordan", "Jules", "Morgan", "Noa",
    "Quinn", "Riley", "River", "Robin", "Rowan", "Sam", "Sasha", "Sky", "Taylor", "Toni",
};
static const char *const s_surnames[] = {
    "Abara", "Adeyemi", "Almeida", "Andersen", "Antonelli", "Arslan", "Bakker", "Banerjee",
    "Barros", "Bear", "Becker", "Bélanger", "Bergstrom", "Bianchi", "Bouchard", "Brennan",
    "Campbell", "Cardinal", "Cardoso", "Castillo", "Chen", "Chowdhury", "Cohen", "Costa", "Côté",
    "Cruz", "Dang", "Delacroix", "Desai", "Diallo", "Dimitrov", "Duarte", "Dubois", "Eriksen",
    "Esposito", "Fernandes", "Fischer", "Fitzgerald", "Fontaine", "Fraser", "Friesen", "Gagnon",
    "Garcia", "Gauthier", "Ghosh", "Gonzalez", "Greenberg", "Gupta", "Haddad", "Hansen", "Hayashi",
    "Herrera", "Hoang", "Horvath", "Hughes", "Ibrahim", "Ivanov", "Jensen", "Jovanovic", "Kaur",
    "Kimura", "Kowalski", "Kuznetsov", "Lambert", "Laroche", "Larsen", "Leblanc", "Lee",
    "Lindqvist", "Lopez", "MacDonald", "Mahlangu", "Malik", "Marchetti", "Martins", "McKenzie",
    "Mendes", "Meyer", "Molina", "Moreau", "Morin", "Morrison", "Mukherjee", "Murphy", "Nakamura",
    "Nascimento", "Ng", "Nguyen", "Nielsen", "Novak", "Nowak", "Obi", "Odhiambo", "Okafor",
    "Okonkwo", "Oliveira", "Olsen", "Ortiz", "Osei", "Pacheco", "Papadopoulos", "Park", "Patel",
    "Pelletier", "Pereira", "Petrov", "Pham", "Popescu", "Quinn", "Rahman", "Ramos", "Rao", "Reyes",
    "Ribeiro", "Richter", "Rivera", "Roberts", "Rossi", "Roy", "Russo", "Saito", "Santos", "Sato",
    "Schmidt", "Schneider", "Sharma", "Silva", "Sinclair", "Singh", "Sokolov", "Souza", "Suzuki",
    "Tanaka", "Tavares", "Thompson", "Tremblay", "Turner", "Vargas", "Vasquez", "Vieira", "Volkov",
    "Wagner", "Walsh", "Wang", "Weber", "Wiebe", "Williams", "Wilson", "Wong", "Yamamoto", "Yilmaz",
    "Young", "Zhang", "Zhou", "Zimmermann", "Achterberg", "Bjornsson", "Castellanos", "Dufresne",
    "Eze", "Fairweather", "Grigoryan", "Halvorsen", "Iwu", "Jaramillo", "Kovacs", "Lachance",
    "Mbeki",
};

typedef struct {
    const char *title, *org, *sector, *week;
} s_job_t;

static const s_job_t s_jobs[] = {
    {"Registered nurse", "the regional hospital", "health", "twelve-hour ward shifts, charting"},
    {"Family physician", "a community health clinic", "health", "short appointments, paperwork"},
    {"Pharmacist", "a neighbourhood pharmacy", "health", "prescriptions and worried questions"},
    {"Personal support worker", "a home-care agency", "health", "meals, baths, medication rounds"},
    {"Dental hygienist", "a family dental practice", "health", "cleanings and flossing lectures"},
    {"Physiotherapist", "a sports injury clinic", "health", "rehab plans for sore backs and knees"},
    {"Paramedic", "the provincial ambulance service", "health", "emergency calls, long drives"},
    {"Veterinary technician", "a rural veterinary clinic", "health", "vaccinations, farm calls"},
    {"Elementary school teacher", "the public school board", "education", "26 eight-year-olds"},
    {"High school science teacher", "a secondary school", "education", "labs, marking, robotics"},
    {"Early childhood educator", "a daycare", "education", "songs, snacks, scraped knees"},
    {"University lecturer", "the local university", "education", "lectures and grant proposals"},
    {"Librarian", "the public library", "education", "reading programmes and help with forms"},
    {"Cashier", "a grocery store", "retail", "scanning, bagging, small talk, angry customers"},
    {"Store manager", "a hardware store", "retail", "schedules, stock counts, drill advice"},
    {"Barista", "an independent coffee shop", "retail", "early shifts and regulars' orders"},
    {"Line cook", "a busy family restaurant", "retail", "prep all afternoon, a hot line at night"},
    {"Hotel front desk agent", "a downtown hotel", "retail", "check-ins, lost keys, tourists"},
    {"Electrician", "a small contracting firm", "trades", "rewiring old houses, quoting jobs"},
    {"Carpenter", "a home renovation company", "trades", "framing, finishing, explaining delays"},
    {"Plumber", "a family plumbing business", "trades", "emergency calls and crawl spaces"},
    {"Auto mechanic", "an independent garage", "trades", "brake jobs and honest estimates"},
    {"Welder", "a metal fabrication shop", "trades", "custom railings and trailer repairs"},
    {"Truck driver", "a regional freight company", "trades", "long hauls, nights in the cab"},
    {"Farmer", "the family farm", "agriculture", "crops, machinery and the weather app"},
    {"Farmhand", "a grain and cattle operation", "agriculture", "feeding, fencing, harvest weeks"},
    {"Fisher", "a two-boat fishing operation", "agriculture", "early mornings at sea, quotas"},
    {"Administrative assistant", "a law office", "office", "calendars, filing, knowing everything"},
    {"Accountant", "a mid-sized accounting firm", "office", "tax season overtime, audits"},
    {"Bank teller", "a credit union branch", "office", "deposits and online-banking help"},
    {"Insurance claims adjuster", "a national insurer", "office", "site visits after floods"},
    {"Call centre agent", "a telecom company", "office", "eight hours of calls about bills"},
    {"Real estate agent", "a local brokerage", "office", "weekend showings, nervous buyers"},
    {"Software developer", "a small software company", "technology", "bugs, reviews, meetings"},
    {"IT support technician", "the city's IT department", "technology", "passwords and laptops"},
    {"Data analyst", "a retail chain's head office", "technology", "dashboards and messy data"},
    {"Graphic designer", "a marketing agency", "technology", "logos for fussy clients"},
    {"Civil engineer", "the municipal engineering office", "technology", "bridges and drainage"},
    {"Police officer", "the municipal police service", "public", "patrols and paperwork"},
    {"Firefighter", "the fire department", "public", "24-hour shifts, medical calls, drills"},
    {"Social worker", "a family services agency", "public", "home visits, a heavy caseload"},
    {"Bus driver", "the city transit authority", "public", "the same route eight times a day"},
    {"Postal worker", "the national postal service", "public", "a walking route in all weathers"},
    {"Journalist", "a regional newspaper", "culture", "council meetings, deadlines at five"},
    {"Musician", "a freelance career", "culture", "weekend gigs, weekday guitar lessons"},
    {"Owner of a small bakery", "their own bakery", "business", "up at four, payroll, suppliers"},
    {"Hair stylist", "a neighbourhood salon", "business", "cuts, colours, everyone's news"},
    {"Landscaper", "a landscaping business", "business", "lawns in summer, snow in winter"},
    {"Warehouse associate", "an online retailer", "business", "picking orders against a timer"},
    {"Security guard", "a shopping mall", "business", "night rounds, cameras, shoplifters"},
};

static const char *const s_educations[] = {
    "High school diploma", "Did not finish high school", "Trade certificate in carpentry",
    "Apprenticeship as an electrician", "College diploma in business administration",
    "College diploma in early childhood education", "Bachelor's degree in nursing",
    "Bachelor's degree in computer science", "Bachelor of Arts in history", "Bachelor of Education",
    "Bachelor of Commerce", "Master's degree in public policy", "Master of Business Administration",
    "PhD in molecular biology", "Some university courses, no degree",
    "College diploma in culinary arts",
};
static const char *const s_traits[] = {
    "curious", "stubborn", "generous", "impatient", "methodical", "funny", "anxious", "warm",
    "sceptical", "ambitious", "shy", "talkative", "frugal", "loyal", "blunt", "romantic",
    "pragmatic", "moody", "optimistic", "pessimistic", "meticulous", "disorganised", "competitive",
    "easy-going", "principled", "sarcastic", "patient", "restless", "cautious", "adventurous",
    "proud", "humble", "nosy", "reserved", "energetic", "calm under pressure", "quick to anger",
    "forgiving", "a perfectionist", "absent-minded", "sentimental", "independent",
    "protective of family", "opinionated", "diplomatic", "impulsive", "observant", "self-critical",
    "playful", "stoic", "a bit of a gossip", "idealistic", "hard-working", "sociable", "private",
    "tender-hearted", "grumpy in the morning", "distrustful of experts", "quick to laugh",
    "good at listening",
};
static const char *const s_interests[] = {
    "hockey", "gardening", "baking bread", "true-crime podcasts", "fishing", "local history",
    "board games", "hiking", "knitting", "vintage cars", "cooking for friends", "jazz",
    "country music", "birdwatching", "video games", "yoga", "woodworking", "photography",
    "reading mysteries", "volunteering at the food bank", "church choir", "running",
    "cross-country skiing", "politics", "personal finance", "astronomy", "camping", "painting",
    "soccer", "dancing", "home renovation", "learning languages", "chess", "sailing", "cycling",
    "thrift shopping", "science fiction", "curling", "community theatre", "travel", "comics",
    "pickleball", "foraging mushrooms", "motorcycles", "genealogy", "poetry", "swimming",
    "crosswords", "documentaries", "stand-up comedy", "canning and preserving", "bowling",
};
static const char *const s_likes[] = {
    "clear prices", "quiet mornings", "honest people", "long weekends", "a good bargain",
    "strong coffee", "handwritten notes", "local shops", "clean kitchens", "rainy afternoons",
    "fresh seafood", "road trips", "well-made tools", "early nights", "the smell of cut grass",
    "family dinners", "free parking", "simple apps", "small talk with neighbours", "snow days",
    "live music", "second-hand books", "punctuality", "spicy food", "their dog", "old movies",
    "farmers' markets", "a tidy garage", "surprise visits", "loyalty discounts",
};
static const char *const s_dislikes[] = {
    "hidden fees", "long queues", "being rushed", "loud neighbours", "subscriptions",
    "automated phone menus", "wasted food", "small print", "traffic", "people who interrupt",
    "apps that ask for everything", "cold coffee", "pushy salespeople", "jargon",
    "last-minute changes", "being talked down to", "black ice", "open-plan offices", "gossip",
    "online-only services", "mosquitoes", "self-checkout machines", "flaky friends", "bureaucracy",
    "being photographed", "overpriced parking", "fake reviews", "cold houses",
};
static const char *const s_beliefs[] = {
    "Hard work pays off, eventually", "Family comes before career",
    "Big companies rarely have your interests at heart", "Technology should make life simpler",
    "Local businesses deserve support", "Everyone should know how to cook",
    "Governments waste too much money", "Public health care is worth protecting",
    "Young people have it harder than their parents did", "Climate change needs action now",
    "You should never borrow for things you do not need",
    "Neighbours should look out for each other", "Education is the best investment",
    "Most news is too negative", "People are mostly good if you give them a chance",
    "Rules are there for a reason", "Online privacy is already lost",
    "Cities are getting too expensive to live in", "A handshake still means something",
    "Saving for retirement is a duty", "New is not always better",
    "Sharing things is smarter than owning them", "Insurance is a necessary evil",
    "Reviews from friends beat any advertising", "Kids spend too much time on screens",
    "Everyone deserves a second chance", "Immigration makes the country stronger",
    "Small towns are better places to raise children", "Unions protect workers",
    "Free markets solve most problems",
};
static const char *const s_skills[] = {
    "fixing small engines", "budgeting", "first aid", "speaking French", "public speaking",
    "baking", "carpentry", "spreadsheets", "calming angry people", "driving in snow", "sewing",
    "negotiating prices", "organising events", "gardening", "basic plumbing", "photography",
    "teaching children", "reading people", "cooking for a crowd", "writing letters",
    "playing the guitar", "bookkeeping", "painting walls", "fishing", "managing a team",
};
static const char *const s_goals[] = {
    "Pay off the mortgage early", "Travel to Japan", "Retire comfortably by sixty-five",
    "Start a small business", "Spend more time with the grandchildren", "Run a marathon",
    "Learn to speak Spanish", "Buy a cottage by a lake", "Get a promotion to management",
    "Finish a university degree", "Help the kids through college", "Write a book of family history",
    "Move closer to family", "Get healthier and lose some weight", "Build a workshop in the garage",
    "Volunteer more in the community", "Save an emergency fund", "Change careers",
    "Renovate the kitchen", "See every Canadian province", "Become debt-free",
    "Learn to play the piano", "Adopt a dog", "Take a year off to travel",
};
static const char *const s_styles[] = {
    "Plain-spoken and direct; short sentences, no patience for jargon.",
    "Warm and chatty; tells stories to make a point and asks about your family.",
    "Careful and precise; thinks before answering and qualifies everything.",
    "Dry humour; understates things and teases people they like.",
    "Energetic and enthusiastic; talks fast and uses lots of exclamation marks in messages.",
    "Quiet and polite; speaks little in groups but writes long, thoughtful emails.",
    "Blunt and opinionated; says what others only think.",
    "Formal and courteous; uses full names and complete sentences.",
    "Casual and slangy; texts in lowercase and uses a lot of emoji.",
    "Anxious and apologetic; starts many sentences with 'sorry, but'.",
    "Practical and to the point; wants the numbers and the next step.",
    "Storyteller; every answer starts with 'that reminds me of'.",
};
static const char *const s_health[] = {
    "Good health; walks every day.", "Type 2 diabetes, managed with diet and medication.",
    "Chronic back pain from years of lifting.", "Mild asthma, worse in winter.",
    "High blood pressure; supposed to cut down on salt.", "Healthy, but sleeps badly.",
    "Recovering from knee surgery.", "Migraines a few times a month.",
    "Anxiety, helped by therapy and running.", "Excellent; has not seen a doctor in years.",
    "Arthritis in both hands.", "Seasonal allergies; otherwise fine.",
    "Overweight and trying to change that.", "Hearing loss in one ear.",
};
static const char *const s_facts[] = {
    "Grew up as the eldest of four children.", "Has lived in the same house for twenty years.",
    "Once won a local pie-baking contest.",
    "Moved countries as a child and still remembers the first winter.",
    "Was the first in the family to finish post-secondary education.",
    "Keeps every receipt in a shoebox.", "Has a dog named Biscuit.",
    "Lost a job during the last recession and rebuilt from scratch.",
    "Volunteers as a youth sports coach.", "Reads the newspaper from back to front.",
    "Can name every player of the local hockey team.", "Once drove across the country alone.",
    "Still calls their mother every Sunday.", "Learned to swim at forty.",
    "Has a tattoo they regret a little.", "Owns more tools than they can use.",
    "Was married once before, young.", "Raised two children as a single parent for a while.",
    "Runs a neighbourhood group chat.", "Has never owned a credit card.",
    "Grows tomatoes on the balcony every summer.", "Plays in a weekly card game with old friends.",
    "Bought their first car with savings from a summer job.",
    "Is saving for a trip to see relatives abroad.", "Keeps a jar of coins for a rainy day.",
    "Once met a prime minister at a fair.", "Prefers cash for everything under fifty dollars.",
    "Borrows tools from the neighbours more than they lend them.",
};
static const char *const s_relations[] = {
    "spouse", "partner", "best friend since school", "sister", "brother", "adult daughter",
    "adult son", "mother", "neighbour", "colleague", "old friend from work", "cousin",
};
static const char *const s_morning[] = {
    "Coffee and the radio news", "A walk with the dog", "Checks the weather before anything else",
    "Makes lunches for the family", "Twenty minutes of stretching",
    "Scrolls the phone in bed too long",
};
static const char *const s_workday[] = {
    "Packs lunch to save money", "Takes the bus and reads", "Eats at the desk",
    "Calls a parent on the lunch break", "Works late on Thursdays", "Drives to work with a podcast",
};
static const char *const s_evening[] = {
    "Cooks dinner from scratch", "Watches a series with their partner", "Goes to bed early",
    "Plays online games with friends", "Reads before sleep", "Walks around the neighbourhood",
};
static const char *const s_weekend[] = {
    "Farmers' market on Saturday", "Sunday dinner with family", "Yard work and errands",
    "A long hike if the weather holds", "Church on Sunday morning", "Sleeps in and does nothing",
};
/* clang-format on */

typedef struct {
    const char *key; /* what the context says, lower case */
    const char *nationality;
    const char *country;
    const char *cities[4];
} s_country_t;

static const s_country_t s_countries[] = {
    {"canad", "Canadian", "Canada", {"Toronto", "Halifax", "Winnipeg", "Calgary"}},
    {"brazil", "Brazilian", "Brazil", {"São Paulo", "Recife", "Porto Alegre", "Belo Horizonte"}},
    {"united states", "American", "United States", {"Chicago", "Houston", "Denver", "Atlanta"}},
    {"mexic", "Mexican", "Mexico", {"Guadalajara", "Puebla", "Monterrey", "Mérida"}},
    {"spain", "Spanish", "Spain", {"Valencia", "Seville", "Bilbao", "Zaragoza"}},
    {"france", "French", "France", {"Lyon", "Nantes", "Lille", "Toulouse"}},
    {"german", "German", "Germany", {"Leipzig", "Cologne", "Hamburg", "Freiburg"}},
    {"united kingdom", "British", "United Kingdom", {"Leeds", "Bristol", "Glasgow", "Cardiff"}},
    {"india", "Indian", "India", {"Pune", "Kochi", "Jaipur", "Hyderabad"}},
    {"japan", "Japanese", "Japan", {"Osaka", "Sapporo", "Fukuoka", "Nagoya"}},
    {"nigeria", "Nigerian", "Nigeria", {"Lagos", "Ibadan", "Enugu", "Kano"}},
    {"kenya", "Kenyan", "Kenya", {"Nairobi", "Mombasa", "Kisumu", "Nakuru"}},
    {"portug", "Portuguese", "Portugal", {"Porto", "Coimbra", "Braga", "Évora"}},
    {"ital", "Italian", "Italy", {"Bologna", "Turin", "Naples", "Verona"}},
    {"australia", "Australian", "Australia", {"Brisbane", "Adelaide", "Perth", "Hobart"}},
    {"norw", "Norwegian", "Norway", {"Bergen", "Trondheim", "Stavanger", "Tromsø"}},
};

/* ------------------------------------------------------------------ helpers */

/* The first user message that is a JSON object (the task's data); caller owns. */
static json_t *
s_data(const json_t *messages)
{
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        if (strcmp(tt_json_str(m, "role", ""), "user"))
            continue;
        json_t *v = json_loads(tt_json_str(m, "content", ""), 0, NULL);
        if (json_is_object(v))
            return v;
        json_decref(v);
    }
    return json_object();
}

static void
s_rng(tt_rng_t *rng, const json_t *data, uint64_t seed)
{
    char *text = tt_json_canonical(data);
    tt_rng_seed(rng, tt_fnv1a_str(text, seed));
    free(text);
}

static const char *
s_pick(tt_rng_t *rng, const char *const *list, size_t n)
{
    return list[tt_rng_below(rng, n)];
}

/* k distinct picks from list into a JSON array. */
static json_t *
s_picks(tt_rng_t *rng, const char *const *list, size_t n, size_t k)
{
    uint32_t *idx = tt_calloc(n, sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;
    tt_rng_shuffle(rng, idx, n);
    json_t *out = json_array();
    for (size_t i = 0; i < k && i < n; i++)
        json_array_append_new(out, json_string(list[idx[i]]));
    free(idx);
    return out;
}

static char *
s_answer(json_t *value)
{
    char *text = tt_json_compact(value);
    json_decref(value);
    return text;
}

/* Is word a whole word of text (case-insensitive)? */
static bool
s_has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; (p = strcasestr(p, word)); p++) {
        bool left = p == text || !isalnum((unsigned char)p[-1]);
        bool right = !isalnum((unsigned char)p[n]);
        if (left && right)
            return true;
    }
    return false;
}

static const s_country_t *
s_country(const char *text)
{
    for (size_t i = 0; i < S_N(s_countries); i++)
        if (strcasestr(text, s_countries[i].key) || strcasestr(text, s_countries[i].nationality))
            return &s_countries[i];
    return NULL;
}

/* ------------------------------------------------------------------ dimensions */

/* Dimensions as "Name|value:percent|value:percent|...". */
static const char *const s_dim_specs[] = {
    "Gender|Female:50|Male:48|Non-binary:2",
    "Education|High school or less:32|Trade or college diploma:33|Bachelor's degree:24|"
    "Graduate degree:11",
    "Occupation sector|health:10|education:7|retail:12|trades:10|office:10|technology:7|"
    "public:7|business:8|agriculture:4|Retired:17|Student:8",
    "Household income|Low:18|Lower-middle:22|Middle:30|Upper-middle:20|High:10",
    "Political leaning|Progressive:15|Centre-left:20|Centrist:20|Centre-right:15|"
    "Conservative:15|Not interested in politics:15",
    "Attitude to technology|Early adopter:15|Pragmatic user:50|Reluctant user:25|"
    "Avoids new technology:10",
};

/* One dimension from its spec, each share jittered by up to 15%. */
static json_t *
s_dim(const char *spec, tt_rng_t *rng)
{
    size_t n = strcspn(spec, "|");
    json_t *values = json_array();
    for (const char *p = spec + n; *p == '|';) {
        p++;
        size_t len = strcspn(p, "|"), colon = strcspn(p, ":");
        double w = strtod(p + colon + 1, NULL) / 100 * (0.85 + 0.3 * tt_rng_unit(rng));
        char *value = tt_strndup(p, colon < len ? colon : len);
        json_array_append_new(
            values, json_pack("{s:s, s:f}", "value", value, "weight", round(w * 1000) / 1000));
        free(value);
        p += len;
    }
    char *name = tt_strndup(spec, n);
    json_t *d = json_pack("{s:s, s:o, s:[]}", "name", name, "values", values, "range");
    free(name);
    return d;
}

/* Where people live: near a city the context names, in its country, or anywhere. */
static char *
s_residence_spec(const char *ctx)
{
    const s_country_t *c = s_country(ctx);
    const char *city = NULL;
    for (size_t i = 0; c && i < 4; i++)
        if (strstr(ctx, c->cities[i]))
            city = c->cities[i];
    if (city)
        return tt_asprintf("Residence|%s, central:45|%s, suburbs:40|A small town near %s:15", city,
                           city, city);
    if (c)
        return tt_asprintf("Residence|%s:40|%s:25|%s:20|%s:15", c->cities[0], c->cities[1],
                           c->cities[2], c->cities[3]);
    return tt_strdup("Residence|A large city:40|A suburb:30|A small town:20|The countryside:10");
}

char *
tt_offline_dimensions(const json_t *messages, uint64_t seed)
{
    json_t *data = s_data(messages);
    const char *ctx = tt_json_str(data, "population_context", "");
    tt_rng_t rng;
    s_rng(&rng, data, seed);
    const char *age = "Age|18-24:11|25-34:18|35-44:17|45-54:16|55-64:16|65-74:12|75+:10";
    if (s_has_word(ctx, "students") || s_has_word(ctx, "young"))
        age = "Age|18-24:60|25-34:30|35-44:5|45-54:3|55-64:2";
    else if (strcasestr(ctx, "retire") || strcasestr(ctx, "senior"))
        age = "Age|55-64:15|65-74:45|75-84:30|85+:10";
    char *where = s_residence_spec(ctx);
    json_t *dims = json_pack("[o]", s_dim(age, &rng));
    for (size_t i = 0; i < S_N(s_dim_specs); i++) {
        json_array_append_new(dims, s_dim(s_dim_specs[i], &rng));
        if (i == 0) /* after gender */
            json_array_append_new(dims, s_dim(where, &rng));
    }
    char *desc = tt_asprintf("Adults described as: %.300s", *ctx ? ctx : "a general population");
    json_t *ans = json_pack("{s:s, s:o}", "sampling_space_description", desc, "dimensions", dims);
    free(desc);
    free(where);
    json_decref(data);
    return s_answer(ans);
}

/* ------------------------------------------------------------------ sampling plan */

/* A value of dimension d for plan row r. */
static json_t *
s_plan_value(const json_t *d, tt_rng_t *rng)
{
    json_t *values = json_object_get(d, "values"), *range = json_object_get(d, "range");
    size_t n = json_array_size(values);
    if (n == 0 && json_array_size(range) == 2) {
        double lo = json_number_value(json_array_get(range, 0));
        double hi = json_number_value(json_array_get(range, 1));
        double band = (hi - lo) / 4, a = lo + band * (double)tt_rng_below(rng, 4);
        return json_sprintf("%.0f-%.0f", a, a + band);
    }
    if (n == 0)
        return json_string("any");
    double u = tt_rng_unit(rng), acc = 0, total = 0;
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) total += json_number_value(json_object_get(v, "share"));
    json_array_foreach(values, i, v)
    {
        if (json_is_string(v) && total <= 0)
            continue;
        acc += json_number_value(json_object_get(v, "share"));
        if (total > 0 && u * total < acc)
            return json_incref(json_object_get(v, "value"));
    }
    json_t *any = json_array_get(values, tt_rng_below(rng, n));
    return json_is_string(any) ? json_incref(any) : json_incref(json_object_get(any, "value"));
}

char *
tt_offline_sample_plan(const json_t *messages, uint64_t seed)
{
    json_t *data = s_data(messages);
    tt_rng_t rng;
    s_rng(&rng, data, seed);
    json_int_t size = tt_json_int(data, "population_size", 10);
    size = size < 1 ? 1 : size;
    json_t *dims = json_object_get(data, "dimensions");
    size_t rows = (size_t)(size / 5 < 4 ? 4 : size / 5 > 40 ? 40 : size / 5);
    json_t *plan = json_array();
    for (size_t r = 0; r < rows; r++) {
        json_t *sv = json_array();
        tt_buf_t desc;
        tt_buf_init(&desc, 4096);
        tt_buf_adds(&desc, "People with");
        size_t i;
        json_t *d;
        json_array_foreach(dims, i, d)
        {
            json_t *value = s_plan_value(d, &rng);
            json_array_append_new(sv, json_pack("{s:s, s:o}", "dimension",
                                                tt_json_str(d, "name", "?"), "value", value));
            if (i < 4)
                tt_buf_addf(&desc, "%s %s: %s", i ? "," : "", tt_json_str(d, "name", "?"),
                            json_string_value(value));
        }
        double share = (double)size / (double)rows * (0.6 + 0.8 * tt_rng_unit(&rng));
        json_int_t q = (json_int_t)floor(share + 0.5);
        json_array_append_new(plan, json_pack("{s:i, s:s, s:o, s:I}", "id", (int)r + 1,
                                              "subpopulation_description", tt_buf_str(&desc),
                                              "sampled_values", sv, "quantity", q));
        tt_buf_fini(&desc);
    }
    json_decref(data);
    return s_answer(json_pack("{s:o}", "sample_plan", plan));
}

/* ------------------------------------------------------------------ person */

typedef struct {
    json_t *data;
    const json_t *sv;    /* particularities.sampled_values */
    const char *primary; /* particularities.primary_characteristics, or NULL */
    tt_rng_t rng;
    json_t *facts;
    json_t *beliefs;
    json_t *traits;
    json_t *interests;
} s_person_t;

/* The sampled value whose dimension name holds one of words (as a word). */
static const char *
s_sampled(const s_person_t *p, const char *const *words)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)p->sv, key, v)
    {
        for (size_t i = 0; words[i]; i++)
            if (s_has_word(key, words[i]) && json_is_string(v))
                return json_string_value(v);
    }
    return NULL;
}

static int
s_age(s_person_t *p)
{
    static const char *const words[] = {"age", "ages", "age group", NULL};
    const char *text = s_sampled(p, words);
    int lo = 18, hi = 85;
    if (text) {
        const char *d = text;
        while (*d && !isdigit((unsigned char)*d))
            d++;
        long a = strtol(d, (char **)&d, 10), b = a;
        const char *rest = d;
        while (*rest && !isdigit((unsigned char)*rest))
            rest++;
        if (*rest && (strchr(d, '-') || strcasestr(d, "to")))
            b = strtol(rest, NULL, 10);
        if (strchr(text, '+') || strcasestr(text, "over") || strcasestr(text, "older"))
            b = a + 15;
        if (strcasestr(text, "under") || strcasestr(text, "below") || strcasestr(text, "younger")) {
            b = a - 1;
            a = a > 20 ? a - 6 : a - 3;
        }
        if (a > 0 && b >= a && b < 120) {
            lo = (int)a;
            hi = (int)(b > 100 ? 100 : b);
        }
    }
    return lo + (int)tt_rng_below(&p->rng, (uint64_t)(hi - lo + 1));
}

/* 'f', 'm' or 'n' */
static char
s_gender(s_person_t *p, const char **label)
{
    static const char *const words[] = {"gender", "sex", NULL};
    const char *g = s_sampled(p, words);
    *label = g;
    if (g && (strcasestr(g, "female") || strcasestr(g, "wom")))
        return 'f';
    if (g && (strcasestr(g, "non") || strcasestr(g, "other") || strcasestr(g, "another")))
        return 'n';
    if (g && (s_has_word(g, "male") || s_has_word(g, "man") || s_has_word(g, "men")))
        return 'm';
    uint64_t x = tt_rng_below(&p->rng, 100);
    return x < 49 ? 'f' : x < 97 ? 'm' : 'n';
}

static bool
s_taken(const json_t *taken, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(taken, i, t)
    {
        if (json_is_string(t) && !strcasecmp(json_string_value(t), name))
            return true;
    }
    return false;
}

/* A full name; with names_already_taken, the first free surname after the drawn one. */
static char *
s_name(s_person_t *p, char g)
{
    const char *const *first = g == 'f' ? s_female : g == 'm' ? s_male : s_neutral;
    size_t nf = g == 'f' ? S_N(s_female) : g == 'm' ? S_N(s_male) : S_N(s_neutral);
    size_t f = tt_rng_below(&p->rng, nf), s = tt_rng_below(&p->rng, S_N(s_surnames));
    const json_t *taken = json_object_get(p->data, "names_already_taken");
    for (size_t tries = 0; tries < nf * S_N(s_surnames); tries++) {
        size_t fi = (f + tries / S_N(s_surnames)) % nf, si = (s + tries) % S_N(s_surnames);
        char *name = tt_asprintf("%s %s", first[fi], s_surnames[si]);
        if (!s_taken(taken, name))
            return name;
        free(name);
    }
    return tt_asprintf("%s %s", first[f], s_surnames[s]);
}

static bool
s_job_named(const char *text)
{
    for (size_t i = 0; text && i < S_N(s_jobs); i++)
        if (strcasestr(text, s_jobs[i].sector) || strcasestr(text, s_jobs[i].title))
            return true;
    return false;
}

static const s_job_t *
s_job_in(const char *sector, tt_rng_t *rng)
{
    size_t match[S_N(s_jobs)], n = 0;
    for (size_t i = 0; i < S_N(s_jobs); i++)
        if (sector && (strcasestr(sector, s_jobs[i].sector) ||
                       strcasestr(s_jobs[i].title, sector) || strcasestr(sector, s_jobs[i].title)))
            match[n++] = i;
    return &s_jobs[n ? match[tt_rng_below(rng, n)] : tt_rng_below(rng, S_N(s_jobs))];
}

static json_t *
s_occupation(s_person_t *p, int age)
{
    static const char *const words[] = {"occupation", "occupations", "employment", "job", "work",
                                        "profession", "industry",    "sector",     NULL};
    const char *want = s_sampled(p, words);
    if (p->primary && (!want || s_job_named(p->primary)))
        want = p->primary; /* "A registered nurse on night shifts" is a nurse, whatever the
                              sampled occupation */
    const s_job_t *job = s_job_in(want, &p->rng);
    char *title;
    const char *org = job->org;
    char *desc;
    if ((want && strcasestr(want, "retire")) || (!want && age >= 70)) {
        title = tt_asprintf("Retired %c%s", tolower((unsigned char)job->title[0]), job->title + 1);
        desc = tt_asprintf("Spent most of a working life in this job (%s); now fills the week "
                           "with family, errands and volunteering.",
                           job->week);
        org = "retired";
    } else if ((want && strcasestr(want, "student")) || (!want && age < 21)) {
        title = tt_strdup("Student");
        org = "a college in town";
        desc = tt_strdup("Classes in the morning, a part-time job in the evenings, exams that "
                         "always come at once.");
    } else if (want && (strcasestr(want, "unemploy") || strcasestr(want, "looking"))) {
        title = tt_asprintf("Job seeker (formerly %s)", job->title);
        org = "none at the moment";
        desc = tt_strdup("Applications, interviews, an employment insurance claim and too much "
                         "free time.");
    } else {
        title = tt_strdup(job->title);
        desc = tt_asprintf("A typical week: %s.", job->week);
    }
    json_t *o =
        json_pack("{s:s, s:s, s:s}", "title", title, "organization", org, "description", desc);
    free(title);
    free(desc);
    return o;
}

/* Dimensions the fields above did not use become facts, beliefs, traits. */
static void
s_other_values(s_person_t *p)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)p->sv, key, v)
    {
        const char *text = json_string_value(v);
        if (!text)
            continue;
        if (strcasestr(key, "politic"))
            json_array_append_new(p->beliefs, json_sprintf("Politically: %s", text));
        else if (strcasestr(key, "religio") || strcasestr(key, "faith"))
            json_array_append_new(p->beliefs, json_sprintf("Faith: %s", text));
        else if (strcasestr(key, "personality") || strcasestr(key, "temperament") ||
                 strcasestr(key, "trait"))
            json_array_append_new(p->traits, json_string(text));
        else if (strcasestr(key, "interest") || strcasestr(key, "hobb"))
            json_array_append_new(p->interests, json_string(text));
        else if (!s_has_word(key, "age") && !strcasestr(key, "gender") && !s_has_word(key, "sex") &&
                 !strcasestr(key, "residence") && !strcasestr(key, "education") &&
                 !strcasestr(key, "occupation") && !strcasestr(key, "nationality"))
            json_array_append_new(p->facts, json_sprintf("%s: %s", key, text));
    }
}

static json_t *
s_big_five(tt_rng_t *rng)
{
    static const char *const names[] = {"openness", "conscientiousness", "extraversion",
                                        "agreeableness", "neuroticism"};
    static const char *const levels[] = {"Low", "Medium", "High"};
    static const char *const notes[5][3] = {
        {"prefers the familiar", "open to new things when they are explained",
         "loves new ideas and experiences"},
        {"lets things slide", "organised when it matters", "plans everything, keeps lists"},
        {"recharges alone", "sociable in small groups", "energised by crowds"},
        {"tough negotiator", "kind but not a pushover", "trusting and eager to help"},
        {"rarely worries", "worries about money sometimes", "anxious, dwells on risks"},
    };
    json_t *o = json_object();
    for (size_t i = 0; i < 5; i++) {
        size_t l = tt_rng_below(rng, 3);
        json_object_set_new(o, names[i], json_sprintf("%s; %s", levels[l], notes[i][l]));
    }
    return o;
}

static json_t *
s_behaviors(tt_rng_t *rng)
{
    return json_pack("{s:[s, s], s:{s:o, s:o, s:o, s:o}}", "general",
                     "Compares prices before any big purchase",
                     "Asks friends before trying something new", "routines", "morning",
                     s_picks(rng, s_morning, S_N(s_morning), 2), "workday",
                     s_picks(rng, s_workday, S_N(s_workday), 2), "evening",
                     s_picks(rng, s_evening, S_N(s_evening), 2), "weekend",
                     s_picks(rng, s_weekend, S_N(s_weekend), 2));
}

static json_t *
s_relationships(tt_rng_t *rng)
{
    json_t *list = json_array();
    for (int i = 0; i < 2; i++) {
        const char *first = tt_rng_below(rng, 2) ? s_pick(rng, s_female, S_N(s_female))
                                                 : s_pick(rng, s_male, S_N(s_male));
        char *name = tt_asprintf("%s %s", first, s_pick(rng, s_surnames, S_N(s_surnames)));
        json_array_append_new(list, json_pack("{s:s, s:s}", "name", name, "description",
                                              s_pick(rng, s_relations, S_N(s_relations))));
        free(name);
    }
    return list;
}

static void
s_place(s_person_t *p, const char **nationality, char **residence)
{
    static const char *const nat_words[] = {"nationality", "citizenship", NULL};
    static const char *const where[] = {"residence",    "area",     "neighbourhood", "neighborhood",
                                        "city",         "region",   "province",      "location",
                                        "municipality", "district", "community",     NULL};
    const char *ctx = tt_json_str(p->data, "population_context", "");
    const s_country_t *c = s_country(ctx);
    const char *nat = s_sampled(p, nat_words);
    *nationality = nat ? nat : c ? c->nationality : "Canadian";
    const char *place = s_sampled(p, where);
    const char *city = NULL;
    for (size_t i = 0; c && !place && i < 4; i++)
        if (strstr(ctx, c->cities[i]))
            city = c->cities[i];
    if (!place && !city)
        city = c ? c->cities[tt_rng_below(&p->rng, 4)] : "Halifax";
    const char *country = c ? c->country : "Canada";
    const char *what = place ? place : city;
    *residence = strstr(what, country) ? tt_strdup(what) : tt_asprintf("%s, %s", what, country);
}

char *
tt_offline_person(const json_t *messages, uint64_t seed)
{
    s_person_t p = {.data = s_data(messages)};
    json_t *part = json_object_get(p.data, "particularities");
    p.sv = json_object_get(part, "sampled_values");
    p.primary = tt_json_str(part, "primary_characteristics", NULL);
    s_rng(&p.rng, p.data, seed);
    p.facts = s_picks(&p.rng, s_facts, S_N(s_facts), 6);
    if (p.primary) /* what the person is above all comes first */
        json_array_insert_new(p.facts, 0, json_sprintf("Above all: %s", p.primary));
    p.beliefs = s_picks(&p.rng, s_beliefs, S_N(s_beliefs), 8);
    p.traits = s_picks(&p.rng, s_traits, S_N(s_traits), 10);
    p.interests = s_picks(&p.rng, s_interests, S_N(s_interests), 6);
    s_other_values(&p);
    const char *glabel;
    char g = s_gender(&p, &glabel);
    int age = s_age(&p);
    char *name = s_name(&p, g);
    const char *nationality;
    char *residence;
    s_place(&p, &nationality, &residence);
    static const char *const edu_words[] = {"education", "schooling", "degree", NULL};
    const char *edu = s_sampled(&p, edu_words);
    json_t *persona = json_pack(
        "{s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:{s:o, s:o}, s:{s:o, s:o, s:o}, s:o, "
        "s:o, s:o, s:s, s:o, s:o}",
        "name", name, "age", age, "gender",
        glabel     ? glabel
        : g == 'f' ? "Female"
        : g == 'm' ? "Male"
                   : "Non-binary",
        "nationality", nationality, "residence", residence, "education",
        edu ? edu : s_pick(&p.rng, s_educations, S_N(s_educations)), "long_term_goals",
        s_picks(&p.rng, s_goals, S_N(s_goals), 3), "occupation", s_occupation(&p, age), "style",
        s_pick(&p.rng, s_styles, S_N(s_styles)), "personality", "traits", p.traits, "big_five",
        s_big_five(&p.rng), "preferences", "interests", p.interests, "likes",
        s_picks(&p.rng, s_likes, S_N(s_likes), 5), "dislikes",
        s_picks(&p.rng, s_dislikes, S_N(s_dislikes), 5), "skills",
        s_picks(&p.rng, s_skills, S_N(s_skills), 4), "beliefs", p.beliefs, "behaviors",
        s_behaviors(&p.rng), "health", s_pick(&p.rng, s_health, S_N(s_health)), "relationships",
        s_relationships(&p.rng), "other_facts", p.facts);
    free(name);
    free(residence);
    json_decref(p.data);
    return s_answer(persona);
}

/* ------------------------------------------------------------------ extraction */

/* One line of the interaction history:
 *   [2026-03-01 09:10] Lisa Carter --> Oscar Ramos: [TALK] > content
 *   [2026-03-01 09:10] Lisa Carter acts: [THINK] > content */
typedef struct {
    char actor[160];
    char type[40];
    const char *content;
} s_line_t;

static bool
s_parse_line(const char *line, size_t len, s_line_t *out)
{
    const char *p = line, *end = line + len;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        p = close ? close + 2 : p;
    }
    const char *arrow = strstr(p, " --> "), *acts = strstr(p, " acts: ");
    const char *stop = arrow && (!acts || arrow < acts) ? arrow : acts;
    const char *br = stop ? strstr(stop, ": [") : NULL, *gt = br ? strstr(br, "] > ") : NULL;
    if (!stop || stop >= end || !br || !gt || gt >= end)
        return false;
    snprintf(out->actor, sizeof out->actor, "%.*s", (int)(stop - p), p);
    snprintf(out->type, sizeof out->type, "%.*s", (int)(gt - br - 3), br + 3);
    out->content = gt + 4;
    return true;
}

typedef struct {
    const char *focus; /* NULL: the whole world */
    const char *history;
    char *last_talk;
    char *last_think;
    int talks;
    int positive;
    int negative;
} s_heard_t;

/* The balance of positive and negative words in what was said, leaving out the
 * words the question itself used ("would you buy it?" makes no buyer). */
static void
s_tone(s_heard_t *h, const char *said, const char *heard)
{
    static const char *const pos[] = {
        "yes",   "love", "great", "useful", "worth", "definitely", "interested", "like", "buy",
        "would", "sure", "good",  "happy",  "try",   "recommend",  "convenient", NULL};
    static const char *const neg[] = {"no",      "not",       "never",     "won't",   "wouldn't",
                                      "don't",   "expensive", "doubt",     "worried", "risk",
                                      "concern", "sceptical", "skeptical", "pass",    "hate",
                                      "waste",   NULL};
    for (size_t i = 0; pos[i]; i++)
        h->positive += s_has_word(said, pos[i]) && !s_has_word(heard, pos[i]);
    for (size_t i = 0; neg[i]; i++)
        h->negative += s_has_word(said, neg[i]) && !s_has_word(heard, neg[i]);
}

static void
s_listen(s_heard_t *h)
{
    tt_buf_t said, heard;
    tt_buf_init(&said, 0);
    tt_buf_init(&heard, 0);
    for (const char *line = h->history; *line;) {
        size_t len = strcspn(line, "\n");
        s_line_t l;
        bool mine = false, known = s_parse_line(line, len, &l);
        if (known)
            mine = !h->focus || !strcmp(l.actor, h->focus);
        bool talk = mine && !strcmp(l.type, "TALK"), think = mine && !strcmp(l.type, "THINK");
        size_t n = known ? (size_t)(line + len - l.content) : 0;
        if (talk || think) {
            char *text = h->focus ? tt_strndup(l.content, n)
                                  : tt_asprintf("%s: %.*s", l.actor, (int)n, l.content);
            char **slot = talk ? &h->last_talk : &h->last_think;
            free(*slot);
            *slot = text;
            h->talks += talk;
        }
        if (talk)
            tt_buf_addf(&said, "%.*s\n", (int)n, l.content);
        else if (known && !mine && strcmp(l.type, "TALK") && strcmp(l.type, "THINK"))
            tt_buf_addf(&heard, "%.*s\n", (int)n, l.content);
        line += len + (line[len] == '\n');
    }
    s_tone(h, tt_buf_str(&said), tt_buf_str(&heard));
    tt_buf_fini(&said);
    tt_buf_fini(&heard);
}

static bool
s_field_is(const char *field, const char *const *words)
{
    char *f = tt_strdup(field);
    for (char *p = f; *p; p++)
        if (*p == '_' || *p == '-')
            *p = ' ';
    bool hit = false;
    for (size_t i = 0; words[i] && !hit; i++)
        hit = s_has_word(f, words[i]);
    free(f);
    return hit;
}

static json_t *
s_field_value(const s_heard_t *h, const char *field, const char *objective, uint64_t seed)
{
    static const char *const opinion[] = {
        "opinion", "view",      "views",   "feedback", "thoughts",   "comment", "comments",
        "summary", "quote",     "reason",  "why",      "impression", "verdict", "reaction",
        "answer",  "statement", "feeling", "feelings", NULL};
    static const char *const yesno[] = {"buy",   "purchase",   "would",     "will",  "wants",
                                        "want",  "interested", "recommend", "try",   "subscribe",
                                        "use",   "agree",      "support",   "adopt", "pay",
                                        "likes", "yes",        NULL};
    static const char *const number[] = {"rating", "score", "likelihood", "scale", "stars",
                                         "number", "count", "how",        NULL};
    static const char *const who[] = {"name", "who", "person", "agent", NULL};
    int balance = h->positive - h->negative;
    if (s_field_is(field, opinion))
        return h->last_talk    ? json_string(h->last_talk)
               : h->last_think ? json_string(h->last_think)
                               : json_null();
    if (s_field_is(field, yesno)) {
        if (!h->talks && !h->last_think)
            return json_null();
        bool yes = balance > 0 ||
                   (balance == 0 && (tt_fnv1a_str(h->focus ? h->focus : "world", seed) & 1));
        return json_string(yes ? "yes" : "no");
    }
    if (s_field_is(field, number)) {
        if (s_field_is(field, (const char *const[]){"count", "how", NULL}))
            return json_integer(h->talks);
        bool five = strstr(objective, "1 to 5") || strstr(objective, "1-5") ||
                    strstr(objective, "out of 5");
        int mid = five ? 3 : 6, top = five ? 5 : 10, v = mid + balance;
        return json_integer(v < 1 ? 1 : v > top ? top : v);
    }
    if (s_field_is(field, who))
        return h->focus ? json_string(h->focus) : json_null();
    return h->last_talk ? json_string(h->last_talk) : json_null();
}

char *
tt_offline_extraction(const json_t *messages, uint64_t seed)
{
    json_t *data = s_data(messages);
    json_t *focus = json_object_get(data, "focus");
    s_heard_t h = {.focus = json_is_string(focus) ? json_string_value(focus) : NULL,
                   .history = tt_json_str(data, "interaction_history", "")};
    s_listen(&h);
    const char *objective = tt_json_str(data, "objective", "");
    json_t *fields = json_object_get(data, "fields"), *ans = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        if (json_is_string(f))
            json_object_set_new(ans, json_string_value(f),
                                s_field_value(&h, json_string_value(f), objective, seed));
    }
    if (!json_array_size(fields)) {
        char *summary =
            tt_asprintf("%s spoke %d time%s; the tone was %s.",
                        h.focus ? h.focus : "Everyone together", h.talks, h.talks == 1 ? "" : "s",
                        h.positive > h.negative   ? "mostly positive"
                        : h.positive < h.negative ? "mostly negative"
                                                  : "mixed");
        json_object_set_new(ans, "summary", json_string(summary));
        json_object_set_new(ans, "last_words",
                            h.last_talk ? json_string(h.last_talk) : json_null());
        free(summary);
    }
    free(h.last_talk);
    free(h.last_think);
    json_decref(data);
    return s_answer(ans);
}
