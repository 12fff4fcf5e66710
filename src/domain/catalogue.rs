//! The store's catalogue as shoppers ask about it. Variants (one SKU each, with a size and a
//! colour) are grouped under the product they belong to; a product is found by name in a
//! message even when misspelt or only partly named; and the size, colour or detail the
//! shopper asked about is read from the same message.
//!
//! Matching weighs each word of a product's name by how rare it is in the catalogue, so
//! "cotton" (shared by several products) counts for less than "beanie" (one product). When the
//! best products score alike, the caller asks which one the shopper means.

use serde::{Deserialize, Serialize};

use super::orders::{Availability, Product};
use super::text::normalise;

/// A product with every variant the catalogue has of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductGroup<'a> {
    /// The name shoppers know it by ("Trail Runners").
    pub name: String,
    pub variants: Vec<&'a Product>,
}

impl ProductGroup<'_> {
    /// The first variant's value of a detail (variants of one product share them).
    pub fn detail(&self, aspect: ProductAspect) -> Option<&str> {
        self.variants.iter().find_map(|v| v.details.get(aspect))
    }

    pub fn sizes(&self) -> Vec<&str> {
        distinct(self.variants.iter().filter_map(|v| v.size.as_deref()))
    }

    pub fn colours(&self) -> Vec<&str> {
        distinct(self.variants.iter().filter_map(|v| v.colour.as_deref()))
    }

    /// The variants of the size and colour asked for (all of them when none was asked for).
    pub fn matching(&self, wish: &VariantWish) -> Vec<&Product> {
        let fits = |value: Option<&str>, wanted: Option<&str>, same: fn(&str, &str) -> bool| match wanted {
            None => true,
            Some(w) => value.is_some_and(|v| same(v, w)),
        };
        self.variants
            .iter()
            .copied()
            .filter(|v| fits(v.size.as_deref(), wish.size.as_deref(), same_size))
            .filter(|v| fits(v.colour.as_deref(), wish.colour.as_deref(), same_colour))
            .collect()
    }

    /// Every variant is discontinued.
    pub fn discontinued(&self) -> bool {
        self.variants.iter().all(|v| v.availability == Availability::Discontinued)
    }
}

fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for v in values {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(v)) {
            out.push(v);
        }
    }
    out
}

/// The catalogue's variants grouped by product, in catalogue order.
pub fn group(products: &[Product]) -> Vec<ProductGroup<'_>> {
    let mut groups: Vec<ProductGroup> = Vec::new();
    for p in products {
        let name = p.product_name();
        match groups.iter_mut().find(|g| g.name.eq_ignore_ascii_case(name)) {
            Some(g) => g.variants.push(p),
            None => groups.push(ProductGroup { name: name.to_string(), variants: vec![p] }),
        }
    }
    groups
}

/// What a shopper asked about a product, kept while they choose which product they meant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductAsk {
    #[serde(default)]
    pub wish: VariantWish,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspect: Option<ProductAspect>,
}

impl ProductAsk {
    pub fn read(text: &str) -> Self {
        Self { wish: wish(text), aspect: aspect(text) }
    }
}

/// What a message names of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub enum Found<'a> {
    One(ProductGroup<'a>),
    /// Several products match about equally well, best first.
    Several(Vec<ProductGroup<'a>>),
    Nothing,
}

/// Products scoring at least this share of the best one are offered alongside it.
const CLOSE_SCORE: f32 = 0.75;
/// At most this many products are offered to choose from.
const MAX_OFFERED: usize = 4;

/// Finds the product a message is about.
pub fn find<'a>(text: &str, groups: Vec<ProductGroup<'a>>) -> Found<'a> {
    let words = words(text);
    let names: Vec<Vec<String>> = groups.iter().map(|g| name_words(&g.name)).collect();
    let mut scored: Vec<(f32, ProductGroup<'a>)> = groups
        .into_iter()
        .zip(&names)
        .map(|(g, name)| {
            let score =
                name.iter().filter(|w| words.iter().any(|m| similar(m, w))).map(|w| rarity(w, &names)).sum::<f32>();
            (score, g)
        })
        .filter(|(score, _)| *score > 0.0)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    let Some(best) = scored.first().map(|(s, _)| *s) else {
        return Found::Nothing;
    };
    let mut close: Vec<ProductGroup> =
        scored.into_iter().take_while(|(s, _)| *s >= best * CLOSE_SCORE).map(|(_, g)| g).take(MAX_OFFERED).collect();
    if close.len() == 1 { Found::One(close.remove(0)) } else { Found::Several(close) }
}

/// The candidate among `names` that a reply (typed, or a clicked button) names.
pub fn choose<'a>(text: &str, names: &'a [String]) -> Option<&'a String> {
    let exact = names.iter().find(|n| normalise(n) == normalise(text));
    exact.or_else(|| {
        let words = words(text);
        let mut scored: Vec<(usize, &String)> = names
            .iter()
            .map(|n| (name_words(n).iter().filter(|w| words.iter().any(|m| similar(m, w))).count(), n))
            .filter(|(s, _)| *s > 0)
            .collect();
        scored.sort_by_key(|s| std::cmp::Reverse(s.0));
        match scored.as_slice() {
            [(best, name), rest @ ..] if rest.first().is_none_or(|(s, _)| s < best) => Some(*name),
            _ => None,
        }
    })
}

/// `ln(1 + products / products with the word)`: rare words identify a product.
fn rarity(word: &str, names: &[Vec<String>]) -> f32 {
    let with = names.iter().filter(|n| n.iter().any(|w| w == word)).count().max(1);
    (1.0 + names.len() as f32 / with as f32).ln()
}

/// Words that say nothing about which product is meant.
const FILLER: &[&str] =
    &["a", "an", "and", "the", "of", "for", "with", "in", "on", "to", "set", "pack", "pairs", "pair", "ml", "size"];

/// A product name's words that can identify it.
fn name_words(name: &str) -> Vec<String> {
    words(name)
        .into_iter()
        .filter(|w| !FILLER.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// Shoppers' words for what catalogues call otherwise.
const SYNONYMS: &[(&str, &str)] = &[
    ("tshirt", "tee"),
    ("tshirts", "tee"),
    ("shirt", "tee"),
    ("tees", "tee"),
    ("trainers", "runners"),
    ("sneakers", "runners"),
    ("hoody", "hoodie"),
    ("hoodies", "hoodie"),
    ("cup", "mug"),
];

/// Normalised words of a text, with "t shirt" joined and shoppers' synonyms mapped.
fn words(text: &str) -> Vec<String> {
    let text = normalise(text).replace("t shirt", "tshirt");
    text.split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| SYNONYMS.iter().find(|(from, _)| *from == w).map_or(w, |(_, to)| to).to_string())
        .collect()
}

/// The same word, a plural of it, or a typo of it (one edit in five letters or more, two in
/// eight or more). Short words must match exactly: "tee" is not "tea".
fn similar(message_word: &str, name_word: &str) -> bool {
    if message_word == name_word || singular(message_word) == singular(name_word) {
        return true;
    }
    let shorter = message_word.chars().count().min(name_word.chars().count());
    let allowed = match shorter {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    };
    allowed > 0 && edit_distance(message_word, name_word) <= allowed
}

fn singular(word: &str) -> &str {
    if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") { &word[..word.len() - 1] } else { word }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring letters ("bennie" → "beanie" is two; "baenie" → "beanie" is one).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// The size and colour a message asks for, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantWish {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
}

impl VariantWish {
    pub fn is_empty(&self) -> bool {
        self.size.is_none() && self.colour.is_none()
    }

    /// "in black, size XL" as a reply would say it ("" for no wish).
    pub fn describe(&self) -> String {
        let size = self.size.as_deref().map(str::to_uppercase);
        match (self.colour.as_deref(), size) {
            (Some(colour), Some(size)) => format!("in {colour}, size {size}"),
            (Some(colour), None) => format!("in {colour}"),
            (None, Some(size)) => format!("in size {size}"),
            (None, None) => String::new(),
        }
    }
}

/// Words before a size: "size 47", "in a 10", "eu 42", "uk 9".
const SIZE_CUES: &[&str] = &["size", "sz", "eu", "uk", "us", "in", "a", "an", "waist"];
const LETTER_SIZES: &[&str] = &["xxs", "xs", "s", "m", "l", "xl", "xxl", "xxxl", "2xl", "3xl"];
const WORD_SIZES: &[(&str, &str)] = &[("small", "s"), ("medium", "m"), ("large", "l")];
const COLOURS: &[&str] = &[
    "black", "white", "grey", "gray", "red", "blue", "navy", "green", "olive", "khaki", "yellow", "orange", "pink",
    "purple", "brown", "beige", "cream", "tan", "ivory", "gold", "silver", "charcoal", "burgundy", "teal", "natural",
    "sand", "stone", "oatmeal", "mustard", "rust",
];

/// Reads the size and colour a message asks for.
pub fn wish(text: &str) -> VariantWish {
    let words = words(text);
    let mut out = VariantWish::default();
    for (i, w) in words.iter().enumerate() {
        if out.size.is_none() {
            out.size = size_at(&words, i);
        }
        if out.colour.is_none() && COLOURS.contains(&w.as_str()) {
            out.colour = Some(if w == "gray" { "grey".into() } else { w.clone() });
        }
    }
    out
}

/// The size named by the word at `i`: a number or S, M, L after a cue ("size 47", "in m"),
/// XS, XL and the like anywhere, and "small" to "extra large" after a cue.
fn size_at(words: &[String], i: usize) -> Option<String> {
    let w = words[i].as_str();
    let cued = i > 0 && SIZE_CUES.contains(&words[i - 1].as_str());
    let numeric = w.len() <= 3 && w.chars().all(|c| c.is_ascii_digit());
    if (numeric && cued) || (LETTER_SIZES.contains(&w) && (w.len() > 1 || cued)) {
        return Some(w.to_string());
    }
    if !cued {
        return None;
    }
    if w == "extra" {
        return words.get(i + 1).filter(|n| *n == "large").map(|_| "xl".to_string());
    }
    letter_size(w).map(str::to_string)
}

fn letter_size(word: &str) -> Option<&'static str> {
    WORD_SIZES.iter().find(|(w, _)| *w == word).map(|(_, letter)| *letter)
}

/// A catalogue size ("EU 42", "M", "32") and a wished one ("42", "m") are the same size.
fn same_size(catalogue: &str, wished: &str) -> bool {
    let core = |s: &str| {
        let words = words(s);
        let last = words.last().cloned().unwrap_or_default();
        letter_size(&last).map_or(last, str::to_string)
    };
    core(catalogue) == core(wished)
}

fn same_colour(catalogue: &str, wished: &str) -> bool {
    let wished = if wished == "gray" { "grey" } else { wished };
    words(catalogue).iter().any(|w| w == wished || (w == "gray" && wished == "grey"))
}

named_enum! {
    /// What a product question is about.
    pub enum ProductAspect {
        Material = "material",
        Care = "care",
        Sizing = "sizing",
        Compatibility = "compatibility",
    }
}

impl ProductAspect {
    /// How a reply names it.
    pub fn words(self) -> &'static str {
        match self {
            ProductAspect::Material => "material",
            ProductAspect::Care => "care",
            ProductAspect::Sizing => "sizing and fit",
            ProductAspect::Compatibility => "compatibility",
        }
    }
}

/// Words that say what a product question is about, most specific first.
const ASPECT_CUES: &[(ProductAspect, &[&str])] = &[
    (
        ProductAspect::Compatibility,
        &[
            "compatible",
            "compatibility",
            "work with",
            "works with",
            "fit my phone",
            "fit an",
            "iphone",
            "samsung",
            "pixel",
            "charger",
        ],
    ),
    (
        ProductAspect::Care,
        &[
            "wash",
            "washing",
            "washable",
            "machine",
            "tumble",
            "iron",
            "dishwasher",
            "microwave",
            "clean",
            "care",
            "dry clean",
            "shrink",
        ],
    ),
    (
        ProductAspect::Material,
        &[
            "material",
            "made of",
            "made from",
            "fabric",
            "cotton",
            "wool",
            "leather",
            "vegan",
            "polyester",
            "plastic",
            "metal",
            "ingredients",
            "bpa",
            "organic",
            "what is it made",
            "recycled",
        ],
    ),
    (
        ProductAspect::Sizing,
        &[
            "size",
            "sizing",
            "fit",
            "fits",
            "run small",
            "runs small",
            "run large",
            "runs large",
            "true to size",
            "measurements",
            "dimensions",
            "how big",
            "how tall",
            "how long",
            "length",
            "width",
            "cm",
            "inches",
            "tall",
            "wide",
            "narrow",
        ],
    ),
];

/// What a product question asks about, if the message says.
pub fn aspect(text: &str) -> Option<ProductAspect> {
    let padded = format!(" {} ", words(text).join(" "));
    ASPECT_CUES.iter().find(|(_, cues)| cues.iter().any(|c| padded.contains(&format!(" {c} ")))).map(|(a, _)| *a)
}

/// What the store says about a product, for answering questions about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub care: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<String>,
}

impl ProductDetails {
    pub fn get(&self, aspect: ProductAspect) -> Option<&str> {
        let value = match aspect {
            ProductAspect::Material => &self.material,
            ProductAspect::Care => &self.care,
            ProductAspect::Sizing => &self.sizing,
            ProductAspect::Compatibility => &self.compatibility,
        };
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        ProductAspect::ALL.iter().all(|a| self.get(*a).is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(sku: &str, product: &str, size: Option<&str>, colour: Option<&str>, a: Availability) -> Product {
        Product {
            sku: sku.into(),
            name: format!("{product} {}", size.or(colour).unwrap_or_default()).trim().to_string(),
            price_cents: 1000,
            currency: "GBP".into(),
            availability: a,
            product: Some(product.into()),
            size: size.map(str::to_string),
            colour: colour.map(str::to_string),
            restock_at: None,
            details: ProductDetails::default(),
            updated_at: None,
            listing: None,
        }
    }

    fn catalogue() -> Vec<Product> {
        use Availability::*;
        vec![
            product("TR-42", "Trail Runners", Some("EU 42"), None, InStock),
            product("TR-43", "Trail Runners", Some("EU 43"), None, OutOfStock),
            product("TEE-W", "Organic Cotton Tee", Some("M"), Some("white"), InStock),
            product("TEE-B", "Organic Cotton Tee", Some("L"), Some("black"), OutOfStock),
            product("CAP", "Washed Cotton Cap", None, None, Discontinued),
            product("BEANIE", "Ribbed Beanie", None, None, OutOfStock),
            product("MUG", "Stoneware Mug", None, None, InStock),
        ]
    }

    fn found_name(text: &str, products: &[Product]) -> Option<String> {
        match find(text, group(products)) {
            Found::One(g) => Some(g.name),
            _ => None,
        }
    }

    #[test]
    fn variants_are_grouped_under_their_product() {
        let products = catalogue();
        let groups = group(&products);
        assert_eq!(groups.len(), 5);
        assert_eq!(groups[0].sizes(), ["EU 42", "EU 43"]);
        assert_eq!(groups[1].colours(), ["white", "black"]);
        assert!(groups[2].discontinued());
    }

    #[test]
    fn products_are_found_by_part_of_their_name_plurals_and_typos() {
        let products = catalogue();
        for (text, name) in [
            ("trail runners in size 47?", "Trail Runners"),
            ("is the beanie coming back?", "Ribbed Beanie"),
            ("is the beannie coming back", "Ribbed Beanie"),
            ("do u have the ribed beenie", "Ribbed Beanie"),
            ("any trainers left in 43", "Trail Runners"),
            ("the black t-shirt in L, in stock?", "Organic Cotton Tee"),
            ("mugs back in stock?", "Stoneware Mug"),
        ] {
            assert_eq!(found_name(text, &products).as_deref(), Some(name), "{text}");
        }
    }

    #[test]
    fn a_shared_word_asks_which_product_and_no_word_finds_nothing() {
        let products = catalogue();
        match find("is the cotton one in stock", group(&products)) {
            Found::Several(g) => {
                let names: Vec<&str> = g.iter().map(|g| g.name.as_str()).collect();
                assert_eq!(names, ["Organic Cotton Tee", "Washed Cotton Cap"]);
            }
            other => panic!("expected a choice, got {other:?}"),
        }
        assert_eq!(find("do you sell surfboards", group(&products)), Found::Nothing);
        assert_eq!(find("is the tea good", group(&products)), Found::Nothing, "short words match exactly");
    }

    #[test]
    fn a_reply_chooses_among_offered_names() {
        let names = vec!["Organic Cotton Tee".to_string(), "Washed Cotton Cap".to_string()];
        assert_eq!(choose("the cap", &names), Some(&names[1]));
        assert_eq!(choose("Organic Cotton Tee", &names), Some(&names[0]));
        assert_eq!(choose("cotton", &names), None, "a tie chooses nothing");
        assert_eq!(choose("no idea", &names), None);
    }

    #[test]
    fn sizes_and_colours_are_read_from_the_message() {
        let w = |t: &str| wish(t);
        assert_eq!(w("trail runners in size 47?").size.as_deref(), Some("47"));
        assert_eq!(w("have the tee in XL black").size.as_deref(), Some("xl"));
        assert_eq!(w("have the tee in XL black").colour.as_deref(), Some("black"));
        assert_eq!(w("runners eu 42").size.as_deref(), Some("42"));
        assert_eq!(w("the tee in a medium").size.as_deref(), Some("m"));
        assert_eq!(w("in gray please").colour.as_deref(), Some("grey"));
        assert_eq!(w("i ordered 3 mugs"), VariantWish::default(), "a quantity is not a size");
        assert_eq!(w("is it large enough for a vase"), VariantWish::default());
    }

    #[test]
    fn variants_match_the_wish() {
        let products = catalogue();
        let groups = group(&products);
        let runners = &groups[0];
        let skus = |w: VariantWish| runners.matching(&w).iter().map(|p| p.sku.clone()).collect::<Vec<_>>();
        assert_eq!(skus(VariantWish { size: Some("43".into()), colour: None }), ["TR-43"]);
        assert!(skus(VariantWish { size: Some("47".into()), colour: None }).is_empty());
        assert_eq!(skus(VariantWish::default()).len(), 2);
        let tees = &groups[1];
        let black = tees.matching(&VariantWish { size: None, colour: Some("black".into()) });
        assert_eq!(black.len(), 1);
        assert_eq!(black[0].sku, "TEE-B");
    }

    #[test]
    fn questions_say_what_they_are_about() {
        assert_eq!(aspect("what is the beanie made of"), Some(ProductAspect::Material));
        assert_eq!(aspect("can i put the mug in the dishwasher"), Some(ProductAspect::Care));
        assert_eq!(aspect("do the runners come up small? which size"), Some(ProductAspect::Sizing));
        assert_eq!(aspect("does the case work with iphone 15"), Some(ProductAspect::Compatibility));
        assert_eq!(aspect("is the tee nice"), None);
    }

    #[test]
    fn typos_within_the_allowance() {
        assert_eq!(edit_distance("beanie", "baenie"), 1);
        assert_eq!(edit_distance("beanie", "beannie"), 1);
        assert!(similar("runers", "runners"));
        assert!(!similar("mug", "mud"));
        assert!(similar("candles", "candle"));
    }
}
