-- Which notices a person does not want by e-mail (the inbox still has them).
CREATE TABLE notification_preferences (
    user_id    uuid PRIMARY KEY REFERENCES users (id),
    email_off  text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);
