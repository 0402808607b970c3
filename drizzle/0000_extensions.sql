-- citext gives case-insensitive text, so a unique email column is unique regardless of case
-- (the identity issue relies on it). It is a trusted extension: a database owner may create it.
CREATE EXTENSION IF NOT EXISTS citext;
