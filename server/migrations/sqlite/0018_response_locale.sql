-- The locale a response was shown in, as the widget sent it: emerging topics pick the
-- stemmer and stop words of each text's language from it. Responses stored before it
-- have none, and are read as English.
ALTER TABLE responses ADD COLUMN locale TEXT;
