-- The province's view (issue 18): an item of a plan may name the item of the parent
-- plan it implements, so the level above can see who carries each of its items.
ALTER TABLE plan_items ADD COLUMN implements_item_id uuid REFERENCES plan_items (id);
CREATE INDEX plan_items_implements_idx ON plan_items (implements_item_id) WHERE implements_item_id IS NOT NULL;
