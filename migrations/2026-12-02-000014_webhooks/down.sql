DROP TABLE jobs;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
