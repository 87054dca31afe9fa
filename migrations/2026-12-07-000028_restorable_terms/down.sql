ALTER FUNCTION feedback_terms(uuid, text) RESET search_path;
