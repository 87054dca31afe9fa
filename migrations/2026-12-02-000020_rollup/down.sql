DROP INDEX plan_items_implements_idx;
ALTER TABLE plan_items DROP COLUMN implements_item_id;
