//! Cart links for "order the same again": links on the store itself that fill the shopper's
//! cart with the items at today's prices. Nothing is ordered until the shopper checks out there.
//!
//! Shopify takes a whole cart in one permalink (`https://SHOP/cart/VARIANT_ID:QTY,...`);
//! WooCommerce adds one product per link (`https://SHOP/?add-to-cart=ID&quantity=QTY`); any
//! other platform is described by a template in the store profile.

use serde::{Deserialize, Serialize};

use super::orders::{Platform, Product};

/// A store's own cart-link format, for platforms other than Shopify and WooCommerce:
/// `template` holds `{items}` (and may hold `{store_url}`); each item is written with `item`
/// (`{id}` is the platform's id or else the SKU, `{sku}`, `{quantity}`) and joined with
/// `separator`. For example `{store_url}/cart/add?{items}` with `id[]={id}&qty[]={quantity}`
/// joined by `&`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CartTemplate {
    pub template: String,
    pub item: String,
    pub separator: String,
}

impl Default for CartTemplate {
    fn default() -> Self {
        Self { template: String::new(), item: "{id}:{quantity}".into(), separator: ",".into() }
    }
}

impl CartTemplate {
    pub fn is_set(&self) -> bool {
        !self.template.trim().is_empty()
    }

    /// What is wrong with the template, for the settings check at start-up.
    pub fn check(&self) -> Result<(), String> {
        if !self.is_set() {
            return Ok(());
        }
        if !self.template.contains("{items}") {
            return Err("store.cart.template must contain {items}".into());
        }
        if !self.item.contains("{quantity}") || !(self.item.contains("{id}") || self.item.contains("{sku}")) {
            return Err("store.cart.item must contain {quantity} and {id} or {sku}".into());
        }
        Ok(())
    }
}

/// One line of a cart link: a product at today's price and how many of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartItem {
    pub sku: String,
    pub name: String,
    /// The id the link names it by.
    pub id: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

/// A link that puts `items` into the shopper's cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLink {
    pub url: String,
    pub items: Vec<CartItem>,
}

/// The links for a reorder, and the products no link can name (no platform id and no
/// template): a person has to help with those.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub links: Vec<CartLink>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unlinkable: Vec<String>,
}

impl Cart {
    pub fn items(&self) -> impl Iterator<Item = &CartItem> {
        self.links.iter().flat_map(|l| &l.items)
    }

    pub fn total_cents(&self) -> i64 {
        self.items().map(|i| i.unit_price_cents * i.quantity).sum()
    }
}

/// Builds the cart links for `lines` (products that are for sale, with quantities) on the store
/// at `store_url`. A template, when the store has one, names every product; otherwise each
/// product's platform decides the form of its link.
pub fn build(store_url: &str, template: &CartTemplate, lines: &[(&Product, i64)]) -> Cart {
    let base = store_url.trim_end_matches('/');
    let item = |p: &Product, quantity: i64, id: &str| CartItem {
        sku: p.sku.clone(),
        name: p.name.clone(),
        id: id.to_string(),
        quantity,
        unit_price_cents: p.price_cents,
    };
    let mut cart = Cart::default();
    if template.is_set() {
        let items: Vec<CartItem> = lines
            .iter()
            .map(|(p, q)| item(p, *q, p.listing.as_ref().map_or(p.sku.as_str(), |l| l.variant_id.as_str())))
            .collect();
        let written: Vec<String> = items
            .iter()
            .map(|i| {
                template
                    .item
                    .replace("{id}", &encode(&i.id))
                    .replace("{sku}", &encode(&i.sku))
                    .replace("{quantity}", &i.quantity.to_string())
            })
            .collect();
        let url = template.template.replace("{store_url}", base).replace("{items}", &written.join(&template.separator));
        cart.links.push(CartLink { url, items });
        return cart;
    }
    let mut shopify = Vec::new();
    for (p, quantity) in lines {
        match &p.listing {
            Some(l) if l.platform == Platform::Shopify => shopify.push(item(p, *quantity, &l.variant_id)),
            Some(l) => cart.links.push(CartLink {
                url: format!("{base}/?add-to-cart={}&quantity={quantity}", encode(&l.variant_id)),
                items: vec![item(p, *quantity, &l.variant_id)],
            }),
            None => cart.unlinkable.push(p.name.clone()),
        }
    }
    if !shopify.is_empty() {
        let path: Vec<String> = shopify.iter().map(|i| format!("{}:{}", encode(&i.id), i.quantity)).collect();
        cart.links.insert(0, CartLink { url: format!("{base}/cart/{}", path.join(",")), items: shopify });
    }
    cart
}

/// Percent-encodes everything but URL-safe characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::orders::{Availability, Listing};

    fn product(sku: &str, platform: Option<(Platform, &str)>) -> Product {
        Product {
            sku: sku.into(),
            name: format!("{sku} name"),
            price_cents: 1250,
            currency: "EUR".into(),
            availability: Availability::InStock,
            product: None,
            size: None,
            colour: None,
            restock_at: None,
            details: Default::default(),
            updated_at: None,
            listing: platform.map(|(platform, id)| Listing {
                platform,
                product_id: "p1".into(),
                variant_id: id.into(),
            }),
        }
    }

    #[test]
    fn shopify_items_share_one_cart_permalink_with_variant_ids_and_quantities() {
        let (a, b) =
            (product("A", Some((Platform::Shopify, "808950810"))), product("B", Some((Platform::Shopify, "49148385"))));
        let cart = build("https://shop.example.com/", &CartTemplate::default(), &[(&a, 2), (&b, 1)]);
        assert_eq!(cart.links.len(), 1);
        assert_eq!(cart.links[0].url, "https://shop.example.com/cart/808950810:2,49148385:1");
        assert_eq!(cart.total_cents(), 3 * 1250);
        assert!(cart.unlinkable.is_empty());
    }

    #[test]
    fn woocommerce_items_get_one_add_to_cart_link_each() {
        let (a, b) =
            (product("A", Some((Platform::WooCommerce, "799"))), product("B", Some((Platform::WooCommerce, "12"))));
        let cart = build("https://shop.example.com", &CartTemplate::default(), &[(&a, 3), (&b, 1)]);
        let urls: Vec<&str> = cart.links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://shop.example.com/?add-to-cart=799&quantity=3",
                "https://shop.example.com/?add-to-cart=12&quantity=1"
            ]
        );
    }

    #[test]
    fn a_template_names_every_item_and_products_without_a_platform_need_one() {
        let (a, b) = (product("SKU 1", None), product("B", Some((Platform::Shopify, "7"))));
        let none = build("https://s.example", &CartTemplate::default(), &[(&a, 1), (&b, 2)]);
        assert_eq!(none.unlinkable, ["SKU 1 name"]);
        assert_eq!(none.links[0].url, "https://s.example/cart/7:2");
        let template = CartTemplate {
            template: "{store_url}/cart/add?{items}".into(),
            item: "id[]={id}&qty[]={quantity}".into(),
            separator: "&".into(),
        };
        assert_eq!(template.check(), Ok(()));
        let cart = build("https://s.example", &template, &[(&a, 1), (&b, 2)]);
        assert_eq!(cart.links[0].url, "https://s.example/cart/add?id[]=SKU%201&qty[]=1&id[]=7&qty[]=2");
        assert!(cart.unlinkable.is_empty());
        assert!(CartTemplate { template: "https://x/cart".into(), ..CartTemplate::default() }.check().is_err());
    }
}
