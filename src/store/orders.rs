//! Customers, products and orders (with items, shipments and refunds).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError, Tx, now_ms};
use crate::domain::conversation::{Identity, OrderOwner};
use crate::domain::orders::{
    Availability, Customer, Listing, Order, OrderItem, OrderStatus, Origin, Platform, Product, Refund, RefundStatus,
    Shipment, Upserted,
};
use crate::platforms::{ListedVariants, OrderPart};

pub(super) const ORDER_COLUMNS: &str = "number, customer_id, email, status, placed_at, total_cents, currency, shipping_address, estimated_delivery, delivered_at, source_order_number, checkout_url, updated_at, platform, platform_id";

impl Store {
    pub async fn upsert_products(&self, products: &[Product]) -> Result<Upserted> {
        self.import(products, &[], &[]).await
    }

    /// Products, customers and orders in one transaction, all or nothing (see [`Tx::import`]).
    pub async fn import(&self, products: &[Product], customers: &[Customer], orders: &[Order]) -> Result<Upserted> {
        let mut tx = self.begin().await?;
        let upserted = tx.import(products, customers, orders).await?;
        tx.commit().await?;
        Ok(upserted)
    }

    /// Whose orders a verified shopper may see (for a guest, their verified order is read).
    pub async fn order_owner(&self, identity: &Identity) -> Result<Option<OrderOwner>> {
        let verified = match (&identity.customer_id, &identity.order) {
            (None, Some(number)) => self.order(number).await?,
            _ => None,
        };
        Ok(identity.order_owner(verified.as_ref()))
    }

    /// The owner's orders, newest first.
    pub async fn orders_of(&self, owner: &OrderOwner, limit: i64) -> Result<Vec<Order>> {
        match owner {
            OrderOwner::Customer(id) => self.orders_of_customer(id, limit).await,
            OrderOwner::Email(email) => self.orders_of_email(email, limit).await,
        }
    }

    pub async fn customer(&self, id: &str) -> Result<Option<Customer>> {
        let row = sqlx::query("SELECT id, email, name, updated_at FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| Customer { id: r.get(0), email: r.get(1), name: r.get(2), updated_at: known_time(r.get(3)) }))
    }

    pub async fn customer_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM customers").fetch_one(self.pool()).await?.try_get(0)?)
    }

    pub async fn products(&self, skus: &[String]) -> Result<Vec<Product>> {
        let mut out = Vec::with_capacity(skus.len());
        for sku in skus {
            let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE sku = $1");
            if let Some(r) = sqlx::query(&sql).bind(sku).fetch_optional(self.pool()).await? {
                out.push(product_from_row(&r)?);
            }
        }
        Ok(out)
    }

    /// Every product variant, in SKU order: what shoppers' stock and product questions are
    /// matched against.
    pub async fn catalogue(&self) -> Result<Vec<Product>> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products ORDER BY sku");
        sqlx::query(&sql).fetch_all(self.pool()).await?.iter().map(product_from_row).collect()
    }

    /// One order with its items, shipments and refunds.
    pub async fn order(&self, number: &str) -> Result<Option<Order>> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE number = $1");
        match sqlx::query(&sql).bind(number).fetch_optional(self.pool()).await? {
            Some(row) => Ok(Some(self.complete(order_from_row(&row)?).await?)),
            None => Ok(None),
        }
    }

    /// A customer's orders, newest first.
    async fn orders_of_customer(&self, customer_id: &str, limit: i64) -> Result<Vec<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 ORDER BY placed_at DESC, number DESC LIMIT $2"
        );
        self.orders_where(&sql, customer_id, limit).await
    }

    /// Orders placed with an email address, newest first (for verified guests).
    async fn orders_of_email(&self, email: &str, limit: i64) -> Result<Vec<Order>> {
        // A forgotten customer's orders have no email left: they belong to nobody's address.
        if email.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE email = $1 ORDER BY placed_at DESC, number DESC LIMIT $2"
        );
        self.orders_where(&sql, email, limit).await
    }

    async fn orders_where(&self, sql: &str, key: &str, limit: i64) -> Result<Vec<Order>> {
        let rows = sqlx::query(sql).bind(key).bind(limit).fetch_all(self.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.complete(order_from_row(&row)?).await?);
        }
        Ok(out)
    }

    /// Orders created from `source_number` (reorders), oldest first.
    pub async fn orders_from_source(&self, source_number: &str) -> Result<Vec<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE source_order_number = $1 ORDER BY placed_at, number LIMIT $2"
        );
        self.orders_where(&sql, source_number, 1000).await
    }

    /// The carts the bot gave in a conversation, oldest first.
    pub async fn cart_links_of(&self, conversation_id: &str) -> Result<Vec<crate::domain::cart::Cart>> {
        let rows =
            sqlx::query("SELECT cart FROM cart_links WHERE conversation_id = $1 ORDER BY created_at, proposal_key")
                .bind(conversation_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                let json: String = r.try_get(0)?;
                serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("cart link: {e}")))
            })
            .collect()
    }

    pub async fn order_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM orders").fetch_one(self.pool()).await?.try_get(0)?)
    }

    async fn complete(&self, order: Order) -> Result<Order> {
        let mut conn = self.pool().acquire().await?;
        complete(&mut conn, order).await
    }
}

/// Reads an order's items, shipments and refunds.
async fn complete(conn: &mut sqlx::AnyConnection, mut order: Order) -> Result<Order> {
    let items = sqlx::query(
        "SELECT sku, name, quantity, unit_price_cents FROM order_items WHERE order_number = $1 ORDER BY line",
    )
    .bind(&order.number)
    .fetch_all(&mut *conn)
    .await?;
    order.items = items
        .iter()
        .map(|r| OrderItem { sku: r.get(0), name: r.get(1), quantity: r.get(2), unit_price_cents: r.get(3) })
        .collect();
    let shipments = sqlx::query(
            "SELECT carrier, tracking_number, tracking_url, status, shipped_at, estimated_delivery, delivered_at, platform_id FROM shipments WHERE order_number = $1 ORDER BY line",
        )
        .bind(&order.number)
        .fetch_all(&mut *conn)
        .await?;
    order.shipments = shipments
        .iter()
        .map(|r| Shipment {
            carrier: r.get(0),
            tracking_number: r.get(1),
            tracking_url: r.get(2),
            status: r.get(3),
            shipped_at: r.get(4),
            estimated_delivery: r.get(5),
            delivered_at: r.get(6),
            platform_id: r.get(7),
        })
        .collect();
    let refunds = sqlx::query("SELECT amount_cents, status, reason, created_at, completed_at FROM refunds WHERE order_number = $1 ORDER BY line")
            .bind(&order.number)
            .fetch_all(&mut *conn)
            .await?;
    order.refunds = refunds
        .iter()
        .map(|r| {
            let status: String = r.get(1);
            Ok(Refund {
                amount_cents: r.get(0),
                status: RefundStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("refund status {status:?}")))?,
                reason: r.get(2),
                created_at: r.get(3),
                completed_at: r.get(4),
            })
        })
        .collect::<Result<_>>()?;
    Ok(order)
}

const PRODUCT_COLUMNS: &str = "sku, name, price_cents, currency, availability, product_name, size, colour, restock_at, details, updated_at, platform, platform_product_id, platform_variant_id";

fn platform(name: Option<String>) -> Result<Option<Platform>> {
    name.map(|n| Platform::parse(&n).ok_or_else(|| StoreError::Corrupt(format!("platform {n:?}")))).transpose()
}

/// A stored `updated_at`; 0 stands for rows written before the store's times were kept.
fn known_time(ms: i64) -> Option<i64> {
    (ms > 0).then_some(ms)
}

fn product_from_row(r: &AnyRow) -> Result<Product> {
    let availability: String = r.try_get("availability")?;
    let details: Option<String> = r.try_get("details")?;
    Ok(Product {
        sku: r.try_get("sku")?,
        name: r.try_get("name")?,
        price_cents: r.try_get("price_cents")?,
        currency: r.try_get("currency")?,
        availability: Availability::parse(&availability)
            .ok_or_else(|| StoreError::Corrupt(format!("product availability {availability:?}")))?,
        product: r.try_get("product_name")?,
        size: r.try_get("size")?,
        colour: r.try_get("colour")?,
        restock_at: r.try_get("restock_at")?,
        details: match details.filter(|d| !d.is_empty()) {
            Some(d) => serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(format!("product details: {e}")))?,
            None => Default::default(),
        },
        updated_at: known_time(r.try_get("updated_at")?),
        listing: match platform(r.try_get("platform")?)? {
            Some(platform) => Some(Listing {
                platform,
                product_id: r.try_get::<Option<String>, _>("platform_product_id")?.unwrap_or_default(),
                variant_id: r.try_get::<Option<String>, _>("platform_variant_id")?.unwrap_or_default(),
            }),
            None => None,
        },
    })
}

pub(super) fn order_from_row(r: &AnyRow) -> Result<Order> {
    let status: String = r.try_get(3)?;
    Ok(Order {
        number: r.try_get(0)?,
        customer_id: r.try_get(1)?,
        email: r.try_get(2)?,
        status: OrderStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("order status {status:?}")))?,
        placed_at: r.try_get(4)?,
        total_cents: r.try_get(5)?,
        currency: r.try_get(6)?,
        shipping_address: r.try_get(7)?,
        estimated_delivery: r.try_get(8)?,
        delivered_at: r.try_get(9)?,
        source_order_number: r.try_get(10)?,
        checkout_url: r.try_get(11)?,
        items: Vec::new(),
        shipments: Vec::new(),
        refunds: Vec::new(),
        updated_at: known_time(r.try_get(12)?),
        origin: match platform(r.try_get(13)?)? {
            Some(platform) => Some(Origin { platform, id: r.try_get::<Option<String>, _>(14)?.unwrap_or_default() }),
            None => None,
        },
    })
}

impl Tx {
    /// Products, customers and orders, each written unless the stored copy is newer (an
    /// order's items, shipments and refunds only with the order). Each upsert's
    /// `WHERE excluded.updated_at >= <table>.updated_at` (the same on SQLite and PostgreSQL)
    /// writes over a row changed no later than the incoming item, so a copy of the same change
    /// is written again harmlessly and an update that arrives after a newer one is skipped.
    /// Items without an `updated_at` (an import file may leave it out) count as changed now.
    /// An order whose customer is neither in the batch nor already stored fails the batch.
    pub async fn import(&mut self, products: &[Product], customers: &[Customer], orders: &[Order]) -> Result<Upserted> {
        let now = now_ms();
        let mut upserted = Upserted::default();
        for p in products {
            upserted.count(self.upsert_product(p, p.updated_at.unwrap_or(now)).await?);
        }
        for c in customers {
            upserted.count(self.upsert_customer(c, c.updated_at.unwrap_or(now)).await?);
        }
        for o in orders {
            if let Some(customer) = &o.customer_id
                && !self.customer_exists(customer).await?
            {
                return Err(StoreError::UnknownCustomer { order: o.number.clone(), customer: customer.clone() });
            }
            upserted.count(self.upsert_order(o, o.updated_at.unwrap_or(now)).await?);
        }
        Ok(upserted)
    }

    /// Marks discontinued every stored variant of the product that the platform no longer
    /// lists (all of them for a deleted product, which may also be a single variation), unless
    /// the variant was changed later. Returns how many were marked.
    pub async fn apply_listing(&mut self, listed: &ListedVariants) -> Result<usize> {
        let ids: Vec<String> = (0..listed.variant_ids.len()).map(|i| format!("${}", i + 4)).collect();
        let kept =
            if ids.is_empty() { String::new() } else { format!("AND platform_variant_id NOT IN ({})", ids.join(", ")) };
        let deleted = if ids.is_empty() { "OR platform_variant_id = $2" } else { "" };
        let sql = format!(
            "UPDATE products SET availability = 'discontinued', updated_at = $3
             WHERE platform = $1 AND (platform_product_id = $2 {deleted}) {kept}
               AND updated_at <= $3 AND availability <> 'discontinued'"
        );
        let mut query = sqlx::query(&sql).bind(listed.platform.name()).bind(&listed.product_id).bind(listed.at);
        for id in &listed.variant_ids {
            query = query.bind(id);
        }
        Ok(query.execute(self.conn()).await?.rows_affected() as usize)
    }

    /// The stored order with this platform id, with its items, shipments and refunds.
    /// On PostgreSQL the row is locked until the transaction ends, so two deliveries about one
    /// order (a refund and a fulfillment at once) change it one after the other; SQLite's
    /// delivery transaction holds the database's write lock already.
    async fn order_by_origin(&mut self, platform: Platform, id: &str) -> Result<Option<Order>> {
        let lock = if self.engine() == super::Engine::Postgres { " FOR UPDATE" } else { "" };
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE platform = $1 AND platform_id = $2{lock}");
        let row = sqlx::query(&sql).bind(platform.name()).bind(id).fetch_optional(self.conn()).await?;
        match row {
            Some(row) => Ok(Some(complete(self.conn(), order_from_row(&row)?).await?)),
            None => Ok(None),
        }
    }

    /// Adds a fulfillment or refund that arrived on its own to its stored order, through
    /// `apply`, which also brings the order's status along. `Ok(None)` when the order is not
    /// stored (yet): its own delivery carries the part too. A part that can change (a
    /// fulfillment's status) is written unless the order was changed later than it (then
    /// counted stale); one that only ever adds (`additive`: a refund) is added whenever it is
    /// new to the order. The order keeps the later of the two times.
    pub async fn apply_order_part<T>(
        &mut self,
        part: &OrderPart<T>,
        additive: bool,
        apply: impl FnOnce(&mut Order, &OrderPart<T>),
    ) -> Result<Option<bool>> {
        let Some(mut order) = self.order_by_origin(part.platform, &part.order_id).await? else {
            return Ok(None);
        };
        let stored = order.updated_at.unwrap_or(0);
        if !additive && stored > part.at {
            return Ok(Some(false));
        }
        apply(&mut order, part);
        Ok(Some(self.upsert_order(&order, stored.max(part.at)).await?))
    }

    async fn customer_exists(&mut self, id: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM customers WHERE id = $1").bind(id).fetch_optional(self.conn()).await?.is_some())
    }

    /// Whether the customer was written (false: the stored one is newer).
    async fn upsert_customer(&mut self, c: &Customer, updated_at: i64) -> Result<bool> {
        let written = sqlx::query(
            "INSERT INTO customers (id, email, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, updated_at = excluded.updated_at
             WHERE excluded.updated_at >= customers.updated_at",
        )
            .bind(&c.id)
            .bind(c.email.trim().to_lowercase())
            .bind(&c.name)
            .bind(now_ms())
            .bind(updated_at)
            .execute(self.conn())
            .await?
            .rows_affected();
        Ok(written == 1)
    }

    async fn upsert_product(&mut self, p: &Product, updated_at: i64) -> Result<bool> {
        let details = (!p.details.is_empty()).then(|| super::tx::to_json(&p.details));
        let written = sqlx::query(
            "INSERT INTO products (sku, name, price_cents, currency, availability, product_name, size, colour,
                restock_at, details, updated_at, platform, platform_product_id, platform_variant_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (sku) DO UPDATE SET name = excluded.name, price_cents = excluded.price_cents,
             currency = excluded.currency, availability = excluded.availability,
             product_name = excluded.product_name, size = excluded.size, colour = excluded.colour,
             restock_at = excluded.restock_at, details = excluded.details, updated_at = excluded.updated_at,
             platform = excluded.platform, platform_product_id = excluded.platform_product_id,
             platform_variant_id = excluded.platform_variant_id
             WHERE excluded.updated_at >= products.updated_at",
        )
        .bind(&p.sku)
        .bind(&p.name)
        .bind(p.price_cents)
        .bind(&p.currency)
        .bind(p.availability.name())
        .bind(&p.product)
        .bind(&p.size)
        .bind(&p.colour)
        .bind(p.restock_at)
        .bind(details)
        .bind(updated_at)
        .bind(p.listing.as_ref().map(|l| l.platform.name()))
        .bind(p.listing.as_ref().map(|l| l.product_id.clone()))
        .bind(p.listing.as_ref().map(|l| l.variant_id.clone()))
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(written == 1)
    }

    /// Inserts or replaces an order with its items, shipments and refunds, unless the stored
    /// order is newer.
    async fn upsert_order(&mut self, o: &Order, updated_at: i64) -> Result<bool> {
        let written = sqlx::query(
            "INSERT INTO orders (number, customer_id, email, status, placed_at, total_cents, currency, shipping_address,
                estimated_delivery, delivered_at, source_order_number, checkout_url, updated_at, platform, platform_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (number) DO UPDATE SET customer_id = excluded.customer_id, email = excluded.email,
                status = excluded.status, placed_at = excluded.placed_at, total_cents = excluded.total_cents,
                currency = excluded.currency, shipping_address = excluded.shipping_address,
                estimated_delivery = excluded.estimated_delivery, delivered_at = excluded.delivered_at,
                source_order_number = excluded.source_order_number, checkout_url = excluded.checkout_url,
                updated_at = excluded.updated_at, platform = excluded.platform, platform_id = excluded.platform_id
             WHERE excluded.updated_at >= orders.updated_at",
        )
        .bind(&o.number)
        .bind(&o.customer_id)
        .bind(o.email.trim().to_lowercase())
        .bind(o.status.name())
        .bind(o.placed_at)
        .bind(o.total_cents)
        .bind(&o.currency)
        .bind(&o.shipping_address)
        .bind(o.estimated_delivery)
        .bind(o.delivered_at)
        .bind(&o.source_order_number)
        .bind(&o.checkout_url)
        .bind(updated_at)
        .bind(o.origin.as_ref().map(|r| r.platform.name()))
        .bind(o.origin.as_ref().map(|r| r.id.clone()))
        .execute(self.conn())
        .await?
        .rows_affected();
        if written == 1 {
            self.write_order_children(o).await?;
        }
        Ok(written == 1)
    }

    /// Replaces an order's items, shipments and refunds.
    pub(super) async fn write_order_children(&mut self, o: &Order) -> Result<()> {
        for sql in [
            "DELETE FROM order_items WHERE order_number = $1",
            "DELETE FROM shipments WHERE order_number = $1",
            "DELETE FROM refunds WHERE order_number = $1",
        ] {
            sqlx::query(sql).bind(&o.number).execute(self.conn()).await?;
        }
        for (line, i) in o.items.iter().enumerate() {
            sqlx::query("INSERT INTO order_items (order_number, line, sku, name, quantity, unit_price_cents) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&o.number)
                .bind(line as i64)
                .bind(&i.sku)
                .bind(&i.name)
                .bind(i.quantity)
                .bind(i.unit_price_cents)
                .execute(self.conn())
                .await?;
        }
        for (line, s) in o.shipments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO shipments (order_number, line, carrier, tracking_number, tracking_url, status, shipped_at, estimated_delivery, delivered_at, platform_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&o.number)
            .bind(line as i64)
            .bind(&s.carrier)
            .bind(&s.tracking_number)
            .bind(&s.tracking_url)
            .bind(&s.status)
            .bind(s.shipped_at)
            .bind(s.estimated_delivery)
            .bind(s.delivered_at)
            .bind(&s.platform_id)
            .execute(self.conn())
            .await?;
        }
        for (line, r) in o.refunds.iter().enumerate() {
            sqlx::query("INSERT INTO refunds (order_number, line, amount_cents, status, reason, created_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&o.number)
                .bind(line as i64)
                .bind(r.amount_cents)
                .bind(r.status.name())
                .bind(&r.reason)
                .bind(r.created_at)
                .bind(r.completed_at)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}
