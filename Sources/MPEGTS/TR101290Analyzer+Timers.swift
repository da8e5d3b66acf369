import MediaTime

extension TR101290Analyzer {
    /// Runs the timers every `sweepInterval`.
    mutating func sweepIfDue() {
        guard timeValid, now >= nextSweep else { return }
        nextSweep = now + Self.sweepInterval
        if now - patLastNs > TR101290.maxPATInterval {
            record(.patError, pid: Int(PID.pat))
            record(.patError2, pid: Int(PID.pat))
            patLastNs = now
        }
        for p in 0..<programCount where now - programPMTLastNs[p] > TR101290.maxPMTInterval {
            record(.pmtError, pid: Int(programPMTPID[p]))
            record(.pmtError2, pid: Int(programPMTPID[p]))
            programPMTLastNs[p] = now
        }
        for p in 0..<programCount {
            for s in 0..<programStreamCount[p] {
                let pid = Int(programStreams[p * Self.maxStreamsPerProgram + s])
                if now - lastSeenNs[pid] > configuration.pidPeriod {
                    record(.pidError, pid: pid)
                    lastSeenNs[pid] = now
                }
            }
            // A file's clock runs on the bytes between its own PCRs (a guess in VBR): its PCR PID's gaps
            // are judged by the PCR values alone.
            let clockDriven = !arrivalTiming && pcrTrackers[p].pid == clock.pid
            if pcrTrackers[p].started, !pcrTrackers[p].gapCounted, !clockDriven, now > pcrTrackers[p].silenceDeadline {
                pcrTrackers[p].gapCounted = true
                record(.pcrRepetitionError, pid: pcrTrackers[p].pid)
            }
        }
        siTimers()
        for i in 0..<statuses.count where statuses[i].alarm {
            if let last = statuses[i].lastNs, now - last >= configuration.alarmQuietTime {
                statuses[i].alarm = false
                if let indicator = Indicator(rawValue: i) {
                    queue(
                        AlarmTransition(
                            indicator: indicator, raised: false, atNs: now, pid: statuses[i].lastPID,
                            count: statuses[i].count))
                }
            }
        }
    }

    /// 3.2: SI tables seen once must repeat within their maximum interval.
    mutating func siTimers() {
        for t in 0..<siLastNs.count {
            if let last = siLastNs[t], now - last > Self.siMaxIntervals[t] {
                record(.siRepetitionError, pid: Self.siTablePIDs[t])
                siLastNs[t] = now
            }
        }
    }
}
