UPDATE settings SET bulk_threshold = 10;
