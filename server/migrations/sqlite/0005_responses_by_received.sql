-- Reports read a survey version's responses in the order they were received (the wave
-- comparison keeps each respondent's latest answer). Without this index that order costs a
-- sort of every row on each report; with it the rows come out of the index in order. It
-- replaces responses_by_survey, whose columns are its prefix, so ingest still maintains one
-- index besides the primary key.
CREATE INDEX responses_by_received ON responses (survey_id, survey_version, received_at, response_id);
DROP INDEX responses_by_survey;
