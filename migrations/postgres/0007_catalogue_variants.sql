-- Products as shoppers ask about them: each row is one variant (a SKU) of a product, with
-- the product's name its variants share, a size and a colour, when an out-of-stock variant is
-- expected back, and what the store says about the product (material, care, sizing,
-- compatibility) as one JSON object.
ALTER TABLE products ADD COLUMN product_name TEXT;
ALTER TABLE products ADD COLUMN size TEXT;
ALTER TABLE products ADD COLUMN colour TEXT;
ALTER TABLE products ADD COLUMN restock_at BIGINT;
ALTER TABLE products ADD COLUMN details TEXT;
