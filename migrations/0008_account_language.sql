-- The language of the account's product and order cards in Telegram: the page language the
-- merchant connected from (`i18n::Lang::code`: 'en', 'ru' or 'es'). Accounts connected before
-- read English, as they did.
ALTER TABLE account ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
