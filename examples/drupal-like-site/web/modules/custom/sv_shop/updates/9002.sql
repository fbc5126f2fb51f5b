INSERT INTO greeting (lang, text) VALUES ('en', 'Hello');
