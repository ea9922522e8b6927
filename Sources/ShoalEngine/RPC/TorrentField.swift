/// A `torrent-get` field by its Transmission name (names Shoal does not know are left out of the
/// answer, as Transmission does). An enum so a row is written with one jump per field, not a
/// walk along some 80 string comparisons, for each of 10,000 torrents.
enum TorrentField: String {
    case id, hashString, name, status, error, errorString, totalSize, sizeWhenDone, leftUntilDone, haveValid, haveUnchecked
    case desiredAvailable, percentDone, percentComplete, metadataPercentComplete, recheckProgress, isFinished, isStalled
    case isPrivate, rateDownload, rateUpload, downloadedEver, uploadedEver, corruptEver, uploadRatio, eta, etaIdle
    case downloadDir, addedDate, doneDate, dateCreated, startDate, activityDate, editDate, manualAnnounceTime, comment
    case creator, source, group, magnetLink, labels, sequentialDownload, pieceCount, pieceSize, pieces, availability
    case downloadLimit, downloadLimited, uploadLimit, uploadLimited, honorsSessionLimits, bandwidthPriority, seedRatioLimit
    case seedRatioMode, seedIdleLimit, seedIdleMode, queuePosition, secondsDownloading, secondsSeeding
    case peerLimit = "peer-limit", maxConnectedPeers, peersConnected, peersGettingFromUs, peersSendingToUs
    case webseedsSendingToUs, webseeds, peersFrom, peers, files, fileStats, fileCount = "file-count", wanted, priorities
    case trackers, trackerList, trackerStats, primaryMimeType = "primary-mime-type", torrentFile, shoal
    case shoalDetail = "shoal-detail"
}
