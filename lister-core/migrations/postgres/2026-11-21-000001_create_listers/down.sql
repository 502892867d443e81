DROP TABLE page_validators;
DROP TABLE listed_origins;
DROP TABLE listers;
