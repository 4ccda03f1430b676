"""Singer tap for Salesforce Accounts."""
